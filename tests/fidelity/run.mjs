// Runs the fidelity suite outside node:test and prints the table:
//   node tests/fidelity/run.mjs [fast|full] [scenario,...]
import fs from 'node:fs';
import path from 'node:path';
import { runFidelity, report, table, OUT } from './lib/run.mjs';
import { selectScenarios } from './scenarios.mjs';

const mode = process.argv[2] || process.env.TABREEL_FIDELITY || 'fast';
const scenarios = selectScenarios(mode, process.argv[3] || process.env.TABREEL_FIDELITY_ONLY);
const { rows, errors } = await runFidelity(scenarios);
const md = report(rows, { mode });
fs.writeFileSync(path.join(OUT, '..', 'fidelity.md'), md);
fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify(rows, null, 1));
console.log(table(rows));
console.log(`report: tests/out/fidelity.md; diff images: tests/out/fidelity/`);
if (errors.length) {
  console.error(errors.join('\n'));
  process.exitCode = 1;
}
