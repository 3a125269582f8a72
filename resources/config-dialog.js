/**
 * Editor code the package's dialogs share (vcd-login, aci-controller,
 * cloudevent-sink, cloudevent-emit). Node-RED serves this folder at
 * resources/@dcevents/node-red-vcd-aci/ and loads the file before the dialogs'
 * own scripts; each dialog includes it, so it defines itself once.
 * Label keys are the node's own: `<type>.test.*`, `<type>.warning.*` and
 * `<type>.legacy.*`. Colours are the editor theme's, so dark themes work too.
 */
(function () {
  'use strict';
  if (window.DcEventsDialog) return;

  var style = document.createElement('style');
  style.textContent =
    '.dce-test-result { margin-top: 6px; white-space: pre-wrap; }' +
    '.dce-test-result.dce-ok { color: var(--red-ui-text-color-success); }' +
    '.dce-test-result.dce-fail, .dce-warning { color: var(--red-ui-text-color-error); }' +
    '.dce-warning, .dce-note { margin: 4px 0 0 104px; }' +
    '.dce-note { color: var(--red-ui-secondary-text-color); }' +
    '.dce-form .form-row > label { width: 150px; }' +
    '.dce-form .dce-warning, .dce-form .dce-note { margin-left: 154px; }' +
    '.dce-form .form-row > input[type="text"], .dce-form .form-row > input[type="password"],' +
    ' .dce-form .form-row > select, .dce-form .form-row > textarea { width: calc(100% - 158px); }' +
    '.dce-form .form-row > input.dce-number { width: 80px; }' +
    '.dce-form .form-row > .dce-unit { margin: 0 12px 0 4px; }' +
    '.dce-form .form-row > input[type="checkbox"] { width: auto; vertical-align: top; margin-right: 6px; }';
  document.head.appendChild(style);

  /** Runs `update` now and whenever one of the fields changes. */
  function follow(fields, update) {
    $(fields).on('input change', update);
    update();
  }

  /** What a failed test says, with its code. */
  function failure(node, type, r) {
    return (
      node._(type + '.test.category.' + (r.category || 'other')) + ': ' + r.message + ' [' + r.code + ']'
    );
  }

  /** The config node a picker (select) has chosen, if any (the editor's "add new" is none). */
  function chosen(select) {
    var id = $(select).val();
    return id && id !== '_ADD_' ? RED.nodes.node(id) : undefined;
  }

  /**
   * What a test request sends: how to connect (the chosen config nodes, else the
   * node's older fields), the node's id and the dialog's values of `fields`.
   */
  function testSettings(node, fields) {
    var prefix = 'node-config-input';
    var tls = chosen('#' + prefix + '-tls');
    var proxy = chosen('#' + prefix + '-proxy');
    var settings = {
      tls: tls ? tls.id : '',
      proxy: proxy ? proxy.id : '',
      tlsInsecure: tls ? false : node.tlsInsecure === true,
      ca: tls ? '' : node.ca || '',
      id: node.id,
    };
    fields.forEach(function (field) {
      settings[field] = $('#' + prefix + '-' + field).val();
    });
    return settings;
  }

  window.DcEventsDialog = {
    follow: follow,
    failure: failure,

    /**
     * The TLS configuration picker (`<prefix>-tls`) of a node that had its own CA
     * and "skip verification" before: `legacy` says they still apply while no TLS
     * configuration is chosen (null: a node that never had them); `warning`
     * shows while verification is off.
     */
    tlsRows: function (node, prefix, legacy, warning) {
      var select = '#' + prefix + '-tls';
      var hasLegacy = !!(node.tlsInsecure || (node.ca && node.ca.trim()));
      follow(select, function () {
        var config = chosen(select);
        $(legacy).toggle(!config && hasLegacy);
        $(warning).toggle(config ? config.verifyservercert === false : node.tlsInsecure === true);
      });
    },

    /** At save: once a TLS configuration is chosen, the node's own older fields go. */
    dropLegacyTls: function (node, prefix) {
      if (!chosen('#' + prefix + '-tls')) return;
      node.ca = '';
      node.tlsInsecure = false;
    },

    /**
     * A connecting config dialog, its ids made from its type (the address and connection pieces): the rows
     * of the chosen authentication (each of `auths`, the values of its authType, shows the rows of class
     * `<type>-<value>-row`) and the TLS rows (`#<type>-legacy-tls`, `#<type>-insecure-warning`).
     */
    connectionRows: function (node, type, auths) {
      var rows = {};
      auths.forEach(function (value) {
        rows[value] = '.' + type + '-' + value + '-row';
      });
      this.authRows('#node-config-input-authType', rows);
      this.tlsRows(node, 'node-config-input', '#' + type + '-legacy-tls', '#' + type + '-insecure-warning');
    },

    /** Shows the rows of the chosen authentication type: `rows` maps a value of `select` to a selector. */
    authRows: function (select, rows) {
      follow(select, function () {
        var chosen = $(select).val();
        Object.keys(rows).forEach(function (value) {
          $(rows[value]).toggle(value === chosen);
        });
      });
    },

    /** Shows `warning` while `checkbox` is checked (skip certificate verification). */
    warnWhenChecked: function (checkbox, warning) {
      follow(checkbox, function () {
        $(warning).toggle($(checkbox).is(':checked'));
      });
    },

    /**
     * Shows `note` while credentials would go over plain http://: `urls` gives the
     * addresses the dialog holds now, `sendsSecret` (optional) whether any credentials go with them.
     */
    warnCleartext: function (fields, note, urls, sendsSecret) {
      follow(fields, function () {
        var plain = urls().some(function (u) {
          return /^http:\/\//i.test($.trim(u));
        });
        $(note).toggle(plain && (!sendsSecret || sendsSecret()));
      });
    },

    /**
     * The "Test connection" button of a config dialog (#<type>-test, the
     * test-button piece): POSTs how to connect and the dialog's `fields` as JSON
     * to the admin route `<type>/test` and shows `describe(result)` in
     * #<type>-test-result; a refused request (no permission, a stored secret that
     * must be typed again) says why.
     */
    testConnection: function (node, type, fields, describe) {
      $('#' + type + '-test').on('click', function () {
        var out = $('#' + type + '-test-result')
          .removeClass('dce-ok dce-fail')
          .text(node._(type + '.test.running'));
        $.ajax({
          url: type + '/test',
          type: 'POST',
          contentType: 'application/json',
          data: JSON.stringify(testSettings(node, fields)),
          dataType: 'json',
        })
          .done(function (r) {
            out.addClass(r.ok ? 'dce-ok' : 'dce-fail').text(describe(r));
          })
          .fail(function (xhr) {
            var r = xhr.responseJSON;
            out
              .addClass('dce-fail')
              .text(
                r && r.code
                  ? failure(node, type, r)
                  : node._(type + '.test.failed') + ' (' + xhr.status + ')',
              );
          });
      });
    },
  };
})();
