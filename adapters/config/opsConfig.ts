import { EDGE_SETTINGS } from './edgeSettings.ts';
import { LIMIT_SETTINGS } from './limitSettings.ts';
import type { OpsConfig, Setting } from './opsSetting.ts';
import { SESSION_SETTINGS } from './sessionSettings.ts';

/**
 * The operations settings of `serve` (docs/operations.md lists every one; a test keeps the two in step), and
 * how they are read: a flag over the environment over the default.
 */
export const OPS_SETTINGS: readonly Setting[] = [...SESSION_SETTINGS, ...LIMIT_SETTINGS, ...EDGE_SETTINGS];

/** Reads a setting's raw text (a flag wins over the environment) into its kind; a clear error otherwise. */
function settingValue(setting: Setting, raw: string | boolean | undefined): OpsConfig[keyof OpsConfig] {
  if (raw === undefined || raw === '') return setting.default as OpsConfig[keyof OpsConfig];
  const where = `${setting.flag} (env ${setting.env})`;
  switch (setting.kind) {
    case 'int': {
      const n = Number(raw);
      if (!Number.isSafeInteger(n) || n < 0)
        throw new Error(`${where} must be a whole number ≥ 0 (got "${raw}").`);
      return n;
    }
    case 'bool':
      if (raw === true || raw === '1' || raw === 'true') return true;
      if (raw === false || raw === '0' || raw === 'false') return false;
      throw new Error(`${where} must be true or false (got "${raw}").`);
    case 'list':
      return String(raw)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    case 'string':
      return String(raw);
  }
}

/**
 * The operations settings from flags (commander's camelCase option names) over the environment over defaults.
 * @example opsConfig({ graceMs: '60000' }, {}).graceMs // 60000
 */
export function opsConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): OpsConfig {
  const out: Record<string, unknown> = {};
  for (const setting of OPS_SETTINGS) {
    const flag = flags[setting.key] as string | boolean | undefined;
    out[setting.key] = settingValue(setting, flag ?? env[setting.env]);
  }
  return out as unknown as OpsConfig;
}
