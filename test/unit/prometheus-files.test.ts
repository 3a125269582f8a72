/**
 * What operators load next to the endpoint: docs/operations.md names every
 * metric, the Grafana dashboard and the alerting rules ask only for metrics the
 * package serves (filtered by job and instance, names joined from the info
 * metric), and promtool (Debian package prometheus) checks the rules, runs
 * their unit tests and lints a real scrape.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { metricsFor, retain } from '../../nodes/common/metrics';
import { prometheusRegistry } from '../../nodes/operations/prometheus';
import { PROMTOOL, lintScrape, needPromtool, run } from '../support/prometheus';

const ROOT = path.resolve(__dirname, '../../..');
const DOCS = path.join(ROOT, 'docs');

/** Metric names in PromQL text (a histogram's series by its name). */
function namesIn(expr: string): string[] {
  return [...expr.matchAll(/\bdcevents_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string };
}

describe('the files operators load beside GET /dcevents/metrics', () => {
  let served: string[];
  before(async () => {
    served = (await prometheusRegistry().getMetricsAsJSON()).map((m) => m.name);
  });

  it('docs/operations.md describes every metric served, and no other', () => {
    const doc = fs.readFileSync(path.join(DOCS, 'operations.md'), 'utf8');
    for (const name of served) assert.ok(doc.includes(`\`${name}\``), `${name} in docs/operations.md`);
    for (const name of new Set(namesIn(doc)))
      assert.ok(served.includes(name), `${name} (operations.md) is served`);
  });

  it('the Grafana dashboard asks only for served metrics, each filtered by job and instance, with both variables', () => {
    const dashboard = JSON.parse(fs.readFileSync(path.join(DOCS, 'grafana-dashboard.json'), 'utf8')) as {
      templating: { list: { name: string; query: { query: string } }[] };
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const variables = dashboard.templating.list.map((v) => v.name);
    assert.deepEqual(variables, ['job', 'instance']);
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    assert.ok(exprs.length > 15);
    const asked = new Set(exprs.flatMap(namesIn));
    for (const name of asked) assert.ok(served.includes(name), `${name} (Grafana) is served`);
    for (const expr of exprs) {
      // Every selector of a metric: the chosen jobs and instances only (the two members of an HA pair apart).
      for (const m of expr.matchAll(/\bdcevents_[a-z0-9_]+(\{[^}]*\})?/g))
        assert.match(m[1] ?? '', /job=~"\$job".*instance=~"\$instance"/, `${m[0]} in ${expr}`);
      assert.doesNotMatch(expr, /by \([^)]*\bname\b/, 'names come from dcevents_node_info, not from series');
    }
  });

  it('the alerting rules name only served metrics, and cover what an operator must hear of', () => {
    const file = yaml.load(fs.readFileSync(path.join(DOCS, 'prometheus-rules.yml'), 'utf8')) as {
      groups: { name: string; rules: Rule[] }[];
    };
    const rules = file.groups.flatMap((g) => g.rules);
    for (const rule of rules) {
      const names = namesIn(rule.expr);
      assert.ok(names.length > 0, rule.alert);
      for (const name of names) assert.ok(served.includes(name), `${name} (${rule.alert}) is served`);
      assert.ok(['warning', 'critical'].includes(rule.labels.severity), rule.alert);
      assert.ok(rule.annotations.summary, rule.alert);
      assert.match(rule.expr, /group_left \(name, flow\) dcevents_node_info/, `${rule.alert} names the node`);
    }
    const alerts = rules.map((r) => r.alert);
    for (const wanted of [
      'DceventsSinkFailing',
      'DceventsConnectionDown',
      'DceventsDeadLetters',
      'DceventsSpoolFilling',
      'DceventsRecoveryPaused',
    ])
      assert.ok(alerts.includes(wanted), wanted);
  });

  it('promtool: the rules are valid and fire as their unit tests say (test/unit/prometheus-rules.test.yml)', async function () {
    needPromtool(this);
    const check = await run(PROMTOOL, ['check', 'rules', path.join(DOCS, 'prometheus-rules.yml')]);
    assert.match(check.stdout, /SUCCESS: \d+ rules found/);
    const tests = path.join(ROOT, 'test', 'unit', 'prometheus-rules.test.yml');
    const result = await run(PROMTOOL, ['test', 'rules', tests]).catch((err: { stdout: string }) => err);
    assert.match(result.stdout, /SUCCESS/, result.stdout);
  });

  it('promtool: a scrape of every kind of node passes its lint of names, types and help', async function () {
    needPromtool(this);
    try {
      metricsFor({ id: 's1', type: 'vcd-subscribe' }).showsConnection().uses('received', 'sent', 'recovered');
      metricsFor({ id: 'l1', type: 'vcd-login' }).holdsConnection().uses('logins').setState('connected');
      const emit = metricsFor({ id: 'e1', type: 'cloudevent-emit' }).uses(
        'delivered',
        'latency',
        'queue',
        'spool',
      );
      emit.deliveryLatency.observe(0.01);
      metricsFor({ id: 'g1', type: 'alert-gate' }).uses('passed', 'doubles', 'held', 'summaries');
      const text = await prometheusRegistry({ nodered: '4.1.15' }).metrics();
      assert.equal(await lintScrape(text), '', 'promtool check metrics');
    } finally {
      retain(() => false);
    }
  });
});
