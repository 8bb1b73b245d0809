// Runs graphql-http's server audit against each URL given; exits 1 if a MUST or SHOULD fails.
import { auditServer } from 'graphql-http';

let failing = 0;
for (const url of process.argv.slice(2)) {
  const results = await auditServer({ url });
  const ok = results.filter((r) => r.status === 'ok').length;
  let bad = 0;
  for (const result of results) {
    if (result.status === 'ok') continue;
    const level = result.name.split(' ')[0];
    if (level !== 'MAY') bad += 1;
    console.log(`${url}: ${result.status.toUpperCase()} ${result.name}: ${result.reason}`);
  }
  console.log(`${url}: ${results.length} audits, ${ok} ok, ${bad} MUST/SHOULD failing`);
  failing += bad;
}
process.exit(failing ? 1 : 0);
