// A Stryker reporter that writes each mutant's result the moment it is known, one JSON line each, next to the
// part's JSON report (reports/mutation-<part>.json → reports/mutation-<part>.partial.jsonl). Stryker writes its
// own reports only at the end of a run, so a run stopped halfway would otherwise leave nothing; this file keeps
// what was measured, and `npm run test:mutation:summary` reads it like a report.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { PluginKind, declareClassPlugin, commonTokens } from '@stryker-mutator/api/plugin';

class MutantLog {
  static inject = [commonTokens.options];

  constructor(options) {
    const report = options.jsonReporter?.fileName ?? 'reports/mutation/mutation.json';
    this.file = report.replace(/\.json$/, '') + '.partial.jsonl';
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, '');
  }

  onMutantTested(result) {
    const { id, fileName, mutatorName, replacement, location, status, statusReason, killedBy, coveredBy } =
      result;
    const line = {
      id,
      fileName: path.relative(process.cwd(), fileName),
      mutatorName,
      replacement,
      location,
      status,
    };
    if (status === 'Survived' || status === 'Timeout') line.statusReason = statusReason;
    if (killedBy?.length) line.killedBy = killedBy;
    line.covering = coveredBy?.length ?? 0;
    fs.appendFileSync(this.file, JSON.stringify(line) + '\n');
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Reporter, 'mutant-log', MutantLog)];
