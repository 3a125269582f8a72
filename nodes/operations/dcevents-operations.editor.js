(function () {
  const NS = '@dcevents/node-red-vcd-aci/dcevents-operations';
  const TOPIC = 'dcevents/nodes';
  /** The group key of configuration nodes (no flow id looks like it). */
  const CONFIG = ' config';
  /** Configuration nodes show no status: their dot follows their state. */
  const STATE_FILL = {
    connected: 'green',
    connecting: 'yellow',
    reconnecting: 'yellow',
    'auth-failed': 'red',
    'bad settings': 'red',
    'sink gone': 'red',
    'store down': 'yellow',
    closed: 'grey',
  };

  const t = (key, vars) => RED._(`${NS}:${key}`, vars);
  /** A label for a value the catalogue may not have (a state added later): the value itself then. */
  const tOr = (key, fallback, vars) => {
    const text = t(key, vars);
    return text === key || text === `${NS}:${key}` ? fallback : text;
  };
  const lang = () => (RED.i18n && RED.i18n.lang ? RED.i18n.lang() : undefined);
  const num = (n) => Number(n).toLocaleString(lang());
  const megabytes = (bytes) =>
    new Intl.NumberFormat(lang(), { style: 'unit', unit: 'megabyte', maximumFractionDigits: 1 }).format(
      bytes / 1e6,
    );

  function isConfig(node) {
    return Boolean(node && node._def && node._def.category === 'config');
  }

  function label(n) {
    const node = RED.nodes.node(n.id);
    return node ? RED.utils.getNodeLabel(node, n.name || n.type) : n.name || n.type;
  }

  function typeLabel(type) {
    const def = RED.nodes.getType(type);
    return def ? RED.utils.getPaletteLabel(type, def) : type;
  }

  function groupOf(n) {
    const node = RED.nodes.node(n.id);
    return isConfig(node) || !node.z ? CONFIG : node.z;
  }

  function groupName(key) {
    if (key === CONFIG) return t('configNodes');
    const ws = RED.nodes.workspace(key);
    if (ws) return ws.label || key;
    const sf = RED.nodes.subflow(key);
    return sf ? t('subflow', { name: sf.name }) : key;
  }

  /** Flows in the editor's tab order, then subflows, then configuration nodes. */
  function groupRank() {
    const rank = new Map();
    const order = RED.nodes.getWorkspaceOrder ? RED.nodes.getWorkspaceOrder() : [];
    order.forEach((id) => rank.set(id, rank.size));
    RED.nodes.eachSubflow((sf) => {
      rank.set(sf.id, rank.size);
    });
    rank.set(CONFIG, rank.size);
    return (key) => (rank.has(key) ? rank.get(key) : rank.size);
  }

  function reveal(id) {
    const node = RED.nodes.node(id);
    if (isConfig(node)) RED.sidebar.config.show(id);
    else RED.view.reveal(id);
  }

  function sparkline(history) {
    const w = 90;
    const h = 16;
    const values = history.length > 0 ? history : [0];
    const max = Math.max(1, ...values);
    const step = w / (30 - 1);
    const x0 = w - (values.length - 1) * step;
    const points = values.map(
      (v, i) => `${(x0 + i * step).toFixed(1)},${(h - 1 - (v / max) * (h - 2)).toFixed(1)}`,
    );
    return $(
      `<svg class="dcevents-ops-sparkline" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><polyline class="dcevents-ops-spark" points="${points.join(' ')}"/></svg>`,
    ).attr('title', t('sparkline'));
  }

  /** What the node says of itself: its status as in the workspace, or (configuration nodes) its state. */
  function stateText(n) {
    if (n.status && n.status.text) return n.status.text;
    return tOr(`state.${n.state}`, n.state);
  }

  function line(el, cls) {
    return $('<div class="dcevents-ops-line"></div>')
      .addClass(cls || '')
      .appendTo(el);
  }

  /** Events in per minute and their sparkline, for nodes that take events. */
  function rates(el, n) {
    if (n.counts.inputs === undefined && n.counts.received === undefined) return;
    const rate = line(el);
    $('<span class="dcevents-ops-rate"></span>')
      .text(t('perMinute', { n: num(n.perMinute) }))
      .appendTo(rate);
    sparkline(n.history).appendTo(rate);
  }

  /**
   * Every counter that applies (the runtime sends those, in the order to show them), each with its label; a
   * spool's use (its queue is in the status).
   */
  function counts(el, n) {
    const out = line(el, 'dcevents-ops-counts');
    for (const c of Object.keys(n.counts)) {
      $('<span class="dcevents-ops-count"></span>')
        .attr('data-counter', c)
        .text(tOr(`count.${c}`, `${c} ${num(n.counts[c])}`, { n: num(n.counts[c]) }))
        .appendTo(out);
    }
    if (n.spool)
      $('<span class="dcevents-ops-spool"></span>')
        .text(t('spool', { used: megabytes(n.spool.bytes), limit: megabytes(n.spool.limit) }))
        .appendTo(out);
  }

  /** Fills a row; the row element itself stays, so a click during an update is not lost. */
  function fill(el, n) {
    el.empty();
    const head = $('<div class="dcevents-ops-head"></div>').appendTo(el);
    $('<span class="dcevents-ops-dot"></span>')
      .addClass((n.status && n.status.fill) || STATE_FILL[n.state] || '')
      .appendTo(head);
    $('<span class="dcevents-ops-name"></span>').text(label(n)).appendTo(head);
    $('<span class="dcevents-ops-type"></span>').text(typeLabel(n.type)).appendTo(head);
    const state = line(el);
    $('<span class="dcevents-ops-state"></span>').text(stateText(n)).appendTo(state);
    if (n.progress) {
      const p = n.progress;
      const total = p.total === undefined ? '?' : num(p.total);
      $('<span class="dcevents-ops-progress"></span>')
        .text(tOr(`progress.${p.work}`, p.work, { subject: p.subject || '', done: num(p.done), total }))
        .appendTo(state);
    }
    rates(el, n);
    counts(el, n);
    if (n.lastError) {
      const at = new Date(n.lastError.at).toLocaleTimeString(lang());
      line(el, 'dcevents-ops-error').text(t('lastError', { code: n.lastError.code, time: at }));
    }
  }

  const rows = new Map();
  const groups = new Map();

  function groupElement(list, key) {
    let g = groups.get(key);
    if (!g) {
      g = $('<div class="dcevents-ops-group"></div>').attr('data-group', key === CONFIG ? 'config' : key);
      $('<div class="dcevents-ops-group-head"></div>').appendTo(g);
      groups.set(key, g);
    }
    g.children('.dcevents-ops-group-head').text(groupName(key));
    return g;
  }

  /** Puts `el` at `index` among `parent`'s children unless it is there already (a click on it must land). */
  function place(parent, el, index) {
    const at = parent.children().get(index);
    if (at === el.get(0)) return;
    if (at) el.insertBefore(at);
    else el.appendTo(parent);
  }

  function render(list, data) {
    // Only nodes the editor knows (this user's deployed flows).
    const known = (data.nodes || []).filter((n) => RED.nodes.node(n.id));
    list.children('.dcevents-ops-empty').remove();
    const ids = new Set(known.map((n) => n.id));
    for (const [id, el] of rows) {
      if (ids.has(id)) continue;
      el.remove();
      rows.delete(id);
    }
    const byGroup = new Map();
    for (const n of known) {
      const key = groupOf(n);
      if (!byGroup.has(key)) byGroup.set(key, []);
      byGroup.get(key).push(n);
    }
    for (const [key, g] of groups) {
      if (byGroup.has(key)) continue;
      g.remove();
      groups.delete(key);
    }
    if (known.length === 0) {
      $('<div class="dcevents-ops-empty"></div>').text(t('empty')).appendTo(list);
      return;
    }
    const rank = groupRank();
    const keys = [...byGroup.keys()].sort(
      (a, b) => rank(a) - rank(b) || groupName(a).localeCompare(groupName(b)),
    );
    keys.forEach((key, gi) => {
      const g = groupElement(list, key);
      place(list, g, gi);
      const members = byGroup
        .get(key)
        .sort((a, b) => label(a).localeCompare(label(b)) || a.id.localeCompare(b.id));
      members.forEach((n, i) => {
        let el = rows.get(n.id);
        if (!el) {
          el = $('<div class="dcevents-ops-row"></div>')
            .attr('data-id', n.id)
            .on('click', () => reveal(n.id));
          rows.set(n.id, el);
        }
        fill(el, n);
        place(g, el, i + 1); // after the group's head
      });
    });
  }

  RED.plugins.registerPlugin('dcevents-operations', {
    onadd() {
      const content = $('<div class="dcevents-ops"></div>');
      const list = $('<div class="dcevents-ops-list"></div>').appendTo(content);
      $('<div class="dcevents-ops-empty"></div>').text(t('waiting')).appendTo(list);
      RED.sidebar.addTab({
        id: 'dcevents-operations',
        label: t('label'),
        name: t('name'),
        iconClass: 'fa fa-tachometer',
        content,
        enableOnEdit: true,
      });
      let latest = { nodes: [] };
      RED.comms.subscribe(TOPIC, (_topic, data) => {
        latest = data;
        render(list, latest);
      });
      // Names, flows and the set of nodes change with a deploy.
      RED.events.on('deploy', () => render(list, latest));
    },
  });
})();
