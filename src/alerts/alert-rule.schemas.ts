import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { Type } from 'typebox';
import type { TSchema } from 'typebox';
import { SEVERITIES } from '../catalog/event-definitions.js';
import type { AppError } from '../lib/errors.js';
import { invalid } from '../lib/errors.js';
import type { ChannelType } from './alert-rule.js';
import { CHANNEL_TYPES, WEBHOOK_FORMATS } from './alert-rule.js';

const Nullable = <T extends TSchema>(t: T, description?: string) => Type.Union([t, Type.Null()], description === undefined ? {} : { description });

const WebhookChannelInput = Type.Object(
  {
    type: Type.Literal('webhook'),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    secret: Type.Optional(Nullable(Type.String({ minLength: 16, maxLength: 256 }), 'Signs deliveries (X-Trailmark-Signature); never shown again')),
    headers: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 1024 }), { maxProperties: 20, description: 'Extra headers, e.g. Authorization: Splunk <token>; values are never shown again' })),
    format: Type.Optional(Type.Enum(WEBHOOK_FORMATS, { description: 'Payload preset (default generic)' })),
  },
  { additionalProperties: false, description: 'POST each matched entry as JSON to an http(s) URL' },
);

const SyslogChannelInput = Type.Object(
  {
    type: Type.Literal('syslog'),
    host: Type.String({ minLength: 1, maxLength: 253, description: 'Receiver host name or IP address' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'Receiver TCP port (6514 is the RFC 5425 port for TLS)' }),
    tls: Type.Optional(Type.Boolean({ description: 'TLS (RFC 5425); default false. The receiver certificate is verified, host name included' })),
    app_name: Type.Optional(Type.String({ minLength: 1, maxLength: 48, description: 'RFC 5424 APP-NAME, printable US-ASCII without spaces (default trailmark)' })),
    ca: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 65536 }), 'PEM certificate(s) of a private CA trusted instead of the system roots (tls only); null removes it')),
  },
  { additionalProperties: false, description: 'RFC 5424 messages over TCP, octet-counting framing (RFC 6587), optionally TLS' },
);

/** A rule's channel, discriminated by `type`. */
export const ChannelInputSchema = Type.Union([WebhookChannelInput, SyslogChannelInput], { description: 'Where matched entries go, by type' });
const PartialWebhook = Type.Partial(WebhookChannelInput, { additionalProperties: false });
const PartialSyslog = Type.Partial(SyslogChannelInput, { additionalProperties: false });
export const ChannelPatchSchema = Type.Union([PartialWebhook, PartialSyslog], { description: 'Only what changes; a different type replaces the channel and must carry its required fields' });

const EventTypes = Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 50, description: 'Catalog actions, prefixes like rotation.*, or *' });

export const CreateRuleBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }), event_types: EventTypes, min_severity: Type.Optional(Type.Enum(SEVERITIES)), enabled: Type.Optional(Type.Boolean()), channel: ChannelInputSchema },
  { additionalProperties: false },
);

export const PatchRuleBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    event_types: Type.Optional(EventTypes),
    min_severity: Type.Optional(Type.Enum(SEVERITIES)),
    enabled: Type.Optional(Type.Boolean()),
    channel: Type.Optional(ChannelPatchSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);

const ChannelView = Type.Union([
  Type.Object({ type: Type.Literal('webhook'), url: Type.String({ description: 'Query values and credentials redacted' }), format: Type.String(), header_names: Type.Array(Type.String()), has_secret: Type.Boolean() }),
  Type.Object({ type: Type.Literal('syslog'), host: Type.String(), port: Type.Integer(), tls: Type.Boolean(), app_name: Type.String(), has_ca: Type.Boolean() }),
]);

export const RuleResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  event_types: Type.Array(Type.String()),
  min_severity: Type.Enum(SEVERITIES),
  enabled: Type.Boolean(),
  channel: ChannelView,
  created_by: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

// The same options as the server's validator, so this check agrees with it.
const ajv = new Ajv({ coerceTypes: 'array', useDefaults: true, removeAdditional: false, allErrors: false });
const checks: Record<'full' | 'partial', Record<ChannelType, ValidateFunction>> = {
  full: { webhook: ajv.compile(WebhookChannelInput), syslog: ajv.compile(SyslogChannelInput) },
  partial: { webhook: ajv.compile(PartialWebhook), syslog: ajv.compile(PartialSyslog) },
};

const FIELDS: Record<ChannelType, ReadonlySet<string>> = {
  webhook: new Set(Object.keys(WebhookChannelInput.properties)),
  syslog: new Set(Object.keys(SyslogChannelInput.properties)),
};

/** The channel type a request means: its `type`, or (in a PATCH without one) the only type that has all the fields sent. */
function typeMeant(channel: object, mode: 'full' | 'partial'): ChannelType | undefined {
  const type = (channel as { type?: unknown }).type;
  const known = CHANNEL_TYPES.find((t) => t === type);
  if (known) return known;
  if (type !== undefined || mode === 'full') return undefined;
  const keys = Object.keys(channel);
  const fits = CHANNEL_TYPES.filter((t) => keys.every((k) => FIELDS[t].has(k)));
  return fits.length === 1 ? fits[0] : undefined;
}

/**
 * The schema error of the channel branch the client meant. A union's validator reports the
 * first branch's error, so a bad syslog port would otherwise read "must have required
 * property 'url'". Runs before schema validation; undefined leaves it to the schema.
 */
export function channelSchemaError(body: unknown, mode: 'full' | 'partial'): AppError | undefined {
  const channel = typeof body === 'object' && body !== null ? (body as { channel?: unknown }).channel : undefined;
  if (typeof channel !== 'object' || channel === null) return undefined;
  const type = typeMeant(channel, mode);
  if (type === undefined) return undefined;
  const check = checks[mode][type];
  if (check(channel)) return undefined;
  const e = check.errors?.[0];
  if (!e) return undefined;
  const params = e.params as { missingProperty?: string; additionalProperty?: string };
  const path = `${e.instancePath}${params.missingProperty ? `/${params.missingProperty}` : ''}${params.additionalProperty ? `/${params.additionalProperty}` : ''}`;
  const what = params.additionalProperty ? `is not a field of a ${type} channel` : params.missingProperty ? `is required for a ${type} channel` : e.message;
  return invalid(`body/channel${path} ${what}`, { field: `body.channel${path.replaceAll('/', '.')}` });
}
