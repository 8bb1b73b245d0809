"""What the generated members buy, look at and talk about: a second-hand luxury catalogue,
the groups they meet in, names and the phrases of their posts."""

from __future__ import annotations

from dataclasses import dataclass

BAGS, WATCHES, JEWELLERY, SHOES, CLOTHING, ACCESSORIES = (
    "bags",
    "watches",
    "jewellery",
    "shoes",
    "clothing",
    "accessories",
)

# Typical second-hand prices of one piece, in yuan: the low and high end of the range.
PRICE_YUAN: dict[str, tuple[int, int]] = {
    BAGS: (3_000, 60_000),
    WATCHES: (15_000, 150_000),
    JEWELLERY: (2_000, 40_000),
    SHOES: (800, 5_000),
    CLOTHING: (1_000, 12_000),
    ACCESSORIES: (500, 4_000),
}


@dataclass(frozen=True)
class Brand:
    name: str
    weight: int  # how often it is bought, relative to the others
    premium: float  # price multiplier against the category's range
    categories: tuple[str, ...]


BRANDS: tuple[Brand, ...] = (
    Brand("爱马仕 Hermès", 12, 1.8, (BAGS, ACCESSORIES, SHOES, JEWELLERY)),
    Brand("香奈儿 Chanel", 14, 1.3, (BAGS, CLOTHING, SHOES, JEWELLERY, ACCESSORIES)),
    Brand("路易威登 Louis Vuitton", 16, 1.0, (BAGS, ACCESSORIES, SHOES, CLOTHING)),
    Brand("劳力士 Rolex", 9, 1.2, (WATCHES,)),
    Brand("卡地亚 Cartier", 8, 1.1, (JEWELLERY, WATCHES)),
    Brand("古驰 Gucci", 10, 0.8, (BAGS, SHOES, CLOTHING, ACCESSORIES)),
    Brand("迪奥 Dior", 9, 1.0, (BAGS, SHOES, CLOTHING, JEWELLERY)),
    Brand("普拉达 Prada", 7, 0.8, (BAGS, SHOES, CLOTHING)),
    Brand("百达翡丽 Patek Philippe", 2, 2.5, (WATCHES,)),
    Brand("宝格丽 Bvlgari", 4, 1.0, (JEWELLERY, WATCHES, BAGS)),
    Brand("梵克雅宝 Van Cleef & Arpels", 4, 1.2, (JEWELLERY,)),
    Brand("巴黎世家 Balenciaga", 5, 0.7, (SHOES, CLOTHING, BAGS)),
)

# The category each archetype's eye falls on first, in order of preference.
COLLECTOR_CATEGORIES = (WATCHES, JEWELLERY, BAGS)
TREND_CATEGORIES = (SHOES, CLOTHING, ACCESSORIES, BAGS)


@dataclass(frozen=True)
class GroupSpec:
    slug: str
    name: str
    description: str
    brands: tuple[int, ...]  # indexes into BRANDS whose fans join it first


# Created when the database has no groups yet.
GROUPS: tuple[GroupSpec, ...] = (
    GroupSpec("hermes-club", "爱马仕俱乐部 Hermès Club", "Birkin, Kelly and their stories.", (0,)),
    GroupSpec("chanel-friends", "香奈儿之友 Chanel Friends", "Flap bags, tweed, pearls.", (1,)),
    GroupSpec("watch-circle", "腕表收藏圈 Watch Circle", "Movements and papers.", (3, 8, 4)),
    GroupSpec("jewellery-salon", "珠宝鉴赏会 Jewellery Salon", "Stones and settings.", (4, 10, 9)),
    GroupSpec("sneaker-lab", "潮流球鞋社 Sneaker Lab", "Runway sneakers, worn.", (11, 5, 7)),
    GroupSpec("first-buy", "新手鉴定问答 First Buy Q&A", "What to check before you buy.", (2, 6)),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = tuple(
    "雅琪 子涵 欣怡 梓萱 诗涵 思彤 一诺 可馨 语桐 雨桐 佳怡 婉清 若曦 晨曦 梦瑶 静怡 "  # noqa: SIM905
    "浩然 子轩 宇轩 俊杰 博文 明轩 天佑 家豪 志强 文博 睿 哲 悦 琳 婷 敏 磊 鹏 洁 晶".split()
)

POST_TEMPLATES = (
    "刚入手一只{brand}的{category}，成色很好，来晒一下。",
    "请教大家：{brand}{category}怎么看年份和编码？",
    "{brand}{category}保养心得，分享给新入坑的朋友。",
    "今天去门店看了{brand}新到的{category}，价格比想象中合适。",
    "收藏{brand}三年了，说说我最喜欢的几件{category}。",
    "有没有人一起聊聊{brand}？最近在犹豫要不要出{category}。",
)
# Remarks about the service (the sentiment rules' defaults are among them).
COMPLAINT_TEMPLATES = (
    "鉴定慢，{brand}{category}等了两个星期还没有结果。",
    "售后差，{category}有问题联系了好几次都没人回。",
    "这次买的{brand}{category}寄来有划痕，客服处理太慢了。",
)
COMMENT_TEXTS = (
    "好看！",
    "成色真不错，恭喜入手。",
    "学到了，谢谢分享。",
    "同款，用了两年依然很喜欢。",
    "价格合适吗？",
    "求细节图～",
    "我也在关注这一款。",
    "鉴定证书齐全吗？",
)
EVENT_CITIES = ("shanghai", "beijing", "shenzhen", "chengdu", "hangzhou")
