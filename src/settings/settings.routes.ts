import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../http/common.schemas.js';
import { contextOf } from '../http/request-context.js';
import type { Settings } from './settings.definitions.js';
import { SettingsPatchSchema, SettingsSchema } from './settings.definitions.js';
import type { SettingsService } from './settings.service.js';

const ADMIN = { roles: ['admin'], scopes: [] } as const;

export function settingsRoutes(app: FastifyInstance, deps: { service: SettingsService }): void {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get('/api/settings', {
    config: { access: ADMIN },
    schema: { tags: ['settings'], summary: 'Current settings', response: { 200: Type.Object({ settings: SettingsSchema }), ...errorResponses } },
  }, async () => ({ settings: await deps.service.get() }));

  r.put('/api/settings', {
    config: { access: ADMIN },
    schema: {
      tags: ['settings'],
      summary: 'Change settings',
      description: 'Send only the settings to change. A value out of range is refused with 400 naming the setting, and nothing changes. Each changed setting is audited as settings.updated with its old and new value.',
      body: SettingsPatchSchema,
      response: {
        200: Type.Object({
          settings: SettingsSchema,
          changed: Type.Array(Type.String()),
          warnings: Type.Array(Type.Object({ setting: Type.String(), message: Type.String(), entries_to_remove: Type.Integer() }), { description: 'E.g. lowering audit_retention_days: how many entries the next run removes' }),
        }),
        ...errorResponses,
      },
    },
  }, async (request) => deps.service.update(request.body as Partial<Settings>, contextOf(request)));
}
