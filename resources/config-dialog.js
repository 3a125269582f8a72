/**
 * Editor code the package's config dialogs share (vcd-login, aci-controller,
 * and the cloudevent-emit sink settings). Node-RED serves this folder at
 * resources/@dcevents/node-red-vcd-aci/ and loads the file before the dialogs'
 * own scripts; each dialog includes it, so it defines itself once.
 * Label keys are the node's own: `<type>.test.*` and `<type>.warning.*`.
 */
(function () {
  'use strict';
  if (window.DcEventsDialog) return;

  var style = document.createElement('style');
  style.textContent =
    '.dce-test-result { margin-top: 6px; white-space: pre-wrap; }' +
    '.dce-test-result.dce-ok { color: #3a7d2c; }' +
    '.dce-test-result.dce-fail { color: #b8342b; }' +
    '.dce-warning { color: #b8342b; margin-left: 104px; }';
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

  window.DcEventsDialog = {
    follow: follow,
    failure: failure,

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
     * The "Test connection" button: POSTs `body()` as JSON to the admin route
     * `<type>/test` and shows `describe(result)` under it; a refused request
     * (no permission, a stored secret that must be typed again) says why.
     */
    testConnection: function (node, type, button, result, body, describe) {
      $(button).on('click', function () {
        var out = $(result)
          .removeClass('dce-ok dce-fail')
          .text(node._(type + '.test.running'));
        $.ajax({
          url: type + '/test',
          type: 'POST',
          contentType: 'application/json',
          data: JSON.stringify(body()),
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
