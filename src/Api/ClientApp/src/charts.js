// Live metric charts (uPlot), one per group of metric names. The worker writes `metrics` events whose data holds
// step, total_steps, epoch and the method's own values: train_loss, valid_loss, mean_token_accuracy (supervised,
// instruction); accuracy, margin, reward_mean/min/max (reward_model); rewards/chosen|rejected|margins|accuracies,
// logps/* (dpo); objective/kl, objective/entropy, objective/scores, loss/policy_avg, loss/value_avg (ppo).
import uPlot from 'uplot';
import { h, clear } from './dom.js';

const notPlotted = new Set(['step', 'total_steps', 'epoch', 'trained_tokens', 'episode', 'trainable_params']);

const groups = [
  { name: 'Loss', test: k => /loss/.test(k) },
  { name: 'Accuracy', test: k => /accura/.test(k) },
  { name: 'Rewards and margins', test: k => /reward|margin|score/.test(k) },
  { name: 'KL and entropy', test: k => /(^|\/)kl|entropy/.test(k) },
  { name: 'Log-probabilities', test: k => /logp/.test(k) },
  { name: 'Learning rate', test: k => /learning_rate|(^|_)lr$/.test(k) },
  { name: 'Throughput', test: k => /tokens_per_s/.test(k) },
  { name: 'Other', test: () => true },
];

/** Axis labels with enough significant digits for small values such as learning rates (1e-5). */
const tick = v => (v === 0 ? '0' : Math.abs(v) >= 1000 ? v.toLocaleString() : Math.abs(v) < 0.01 ? v.toExponential(2).replace(/\.?0+e/, 'e') : String(Number(v.toPrecision(3))));

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

export class MetricCharts {
  constructor(container) {
    this.container = container;
    this.byStep = new Map(); // step → {metric: value}
    this.charts = new Map(); // group name → {plot, keys, card}
    this.pending = false;
    this.resize = () => { for (const c of this.charts.values()) c.plot.setSize(this.size(c.card)); };
    window.addEventListener('resize', this.resize);
  }

  /** Adds one metrics event's data; redraws on the next animation frame. */
  add(data) {
    if (typeof data?.step !== 'number') return;
    const values = this.byStep.get(data.step) ?? {};
    for (const [key, value] of Object.entries(data))
      if (!notPlotted.has(key) && typeof value === 'number' && Number.isFinite(value)) values[key] = value;
    this.byStep.set(data.step, values);
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => { this.pending = false; this.draw(); });
    }
  }

  draw() {
    const steps = [...this.byStep.keys()].sort((a, b) => a - b);
    this.container.dataset.steps = steps.length;
    if (steps.length === 0) return;
    const keys = new Set(steps.flatMap(s => Object.keys(this.byStep.get(s))));
    const grouped = new Map();
    for (const key of [...keys].sort()) {
      const group = groups.find(g => g.test(key)).name;
      grouped.set(group, [...(grouped.get(group) ?? []), key]);
    }
    this.container.querySelector('.placeholder')?.remove();
    for (const { name } of groups) {
      const groupKeys = grouped.get(name);
      if (!groupKeys) continue;
      const data = [steps, ...groupKeys.map(k => steps.map(s => this.byStep.get(s)[k] ?? null))];
      let chart = this.charts.get(name);
      if (chart && chart.keys.join() !== groupKeys.join()) { chart.plot.destroy(); chart.card.remove(); chart = null; }
      if (!chart) chart = this.create(name, groupKeys, data);
      else chart.plot.setData(data);
      chart.card.dataset.points = steps.filter(s => groupKeys.some(k => this.byStep.get(s)[k] != null)).length;
    }
  }

  create(name, keys, data) {
    const card = h('figure', { class: 'chart', dataset: { metricGroup: name } }, h('figcaption', {}, name));
    const order = groups.findIndex(g => g.name === name);
    card.style.order = order;
    this.container.append(card);
    const options = {
      ...this.size(card),
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, { size: 64, values: (_, ticks) => ticks.map(tick) }],
      series: [
        { label: 'step' },
        ...keys.map((key, i) => ({ label: key, stroke: palette[i % palette.length], width: 1.5, spanGaps: true, points: { size: 4 } })),
      ],
      legend: { live: true },
    };
    const chart = { plot: new uPlot(options, data, card), keys, card };
    this.charts.set(name, chart);
    return chart;
  }

  size(card) {
    return { width: Math.max(280, (card.clientWidth || 420) - 16), height: 220 };
  }

  destroy() {
    window.removeEventListener('resize', this.resize);
    for (const c of this.charts.values()) c.plot.destroy();
    this.charts.clear();
    clear(this.container);
  }
}
