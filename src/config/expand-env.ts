/**
 * `${VAR}` and `${VAR:-default}` in config values, as RoadRunner expands them: an unset (or, for
 * `:-`, empty) variable gives the default, or the empty string without one. `$$` is a literal `$`
 * before `{`, so `$${X}` stays `${X}`. Expansion applies to string values after YAML parsing, so
 * a variable's value can never change the YAML structure.
 */

const REFERENCE = /\$\$(?=\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** The environment a config is expanded against. */
export type EnvLookup = Readonly<Record<string, string | undefined>>;

/**
 * `text` with its `${...}` references replaced from `env`. `onUnset` is told the name of each
 * variable that is not set and has no default (it expands to the empty string).
 */
export function expandEnv(text: string, env: EnvLookup, onUnset?: (name: string) => void): string {
  if (!text.includes("$")) return text;
  return text.replace(REFERENCE, (_whole: string, name: string | undefined, fallback: string | undefined) => {
    if (name === undefined) return "$"; // `$$` escape
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === "" ? fallback : value;
    if (value === undefined) onUnset?.(name);
    return value ?? "";
  });
}
