/**
 * Legacy VCD AMQP notifications: the XML body, its routing key and headers;
 * XML read with DOCTYPE and entity declarations refused.
 */
import assert from 'node:assert/strict';
import { decode } from '../../nodes/events/decode';
import { parseRoutingKey } from '../../nodes/events/decode/vcd-amqp';
import { parseXml } from '../../nodes/common/xml';
import { amqpXmlSample } from '../../nodes/events/decode/vcd-amqp';
import { refusesWithCode } from '../support/decode-fixtures';

describe('decoding legacy VCD AMQP notifications (XML)', () => {
  const NS = 'xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5"';

  it('a legacy AMQP XML notification with its routing key and headers', () => {
    const { format, events } = decode({
      payload: Buffer.from(amqpXmlSample),
      routingKey: 'true.dc6a.0b8a.832c.com.vmware.vcloud.event.vapp.create',
      amqpHeaders: { 'notification.entityType': 'vApp' },
    });
    assert.equal(format, 'vcd-amqp');
    const e = events[0]!;
    assert.equal(e.id, 'a1440dd8-60ae-46c7-b216-44693bc00c90');
    assert.equal(e.type, 'com.vmware.vcloud.event.vapp.create');
    assert.equal(e.time, '2011-06-18T14:33:27.787-07:00');
    assert.equal(e.source, 'https://vcloud.example.com', 'the site from the entity resolver link');
    assert.equal(e.summary, 'vapp erp & co created by acmeadmin in acme: succeeded');
    assert.equal(e.origin, 'vcd-amqp');
    assert.equal(e.vcd?.entity, 'urn:vcloud:vapp:dc6a');
  });

  it('the routing key fills what the XML leaves out', () => {
    const xml =
      '<vmext:Notification xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" eventId="e-1"/>';
    const [e] = decode({
      payload: xml,
      routingKey: 'false.ent.org.usr.com.vmware.vcloud.event.vm.delete',
    }).events;
    assert.equal(e!.type, 'com.vmware.vcloud.event.vm.delete');
    assert.equal(e!.vcd?.operationSuccess, false);
    assert.equal(e!.vcd?.org, 'org');
    assert.deepEqual(
      parseRoutingKey('true.e.o.u.com.vmware.vcloud.event.vapp.create.vappDeploy')?.type,
      'com.vmware.vcloud.event.vapp.create.vappDeploy',
    );
  });

  it('refuses DOCTYPEs and entities in every XML: AMQP body and envelope payload', () => {
    const internal = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "INJECTED">]><vmext:Notification ${NS} type="com/vmware/vcloud/event/vm/create" eventId="&a;"/>`;
    const external = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>`;
    assert.throws(() => decode({ payload: internal }), { code: 'DECODE_INVALID_XML' });
    for (const xml of [internal, external]) {
      assert.throws(() => decode({ payload: { type: 'EVENT', headers: {}, payload: xml } }), {
        code: 'DECODE_BAD_PAYLOAD',
      });
    }
    assert.throws(() => parseXml(internal), { code: 'XML_INVALID' });
  });

  describe('refuses bad input with a code and a short excerpt', () => {
    refusesWithCode([
      ['broken XML', { payload: '<vmext:Notification><a></vmext:Notification>' }, {}, 'DECODE_INVALID_XML'],
      [
        'XML that is not a notification',
        { payload: '<html><body>503</body></html>' },
        {},
        'DECODE_WRONG_SHAPE',
      ],
      [
        'an entity-expansion attempt',
        {
          payload:
            '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><Notification eventId="&b;"/>',
        },
        {},
        'DECODE_INVALID_XML',
      ],
      ['JSON where XML was asked for', { payload: '{"a":1}' }, { format: 'vcd-amqp' }, 'DECODE_INVALID_XML'],
    ]);
  });
});
