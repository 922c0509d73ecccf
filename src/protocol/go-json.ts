/**
 * A JSON string literal exactly as Go's encoding/json writes it, because RoadRunner's contexts
 * come from json.Marshal and workers may compare bytes: `<`, `>` and `&` become \u003c, \u003e,
 * \u0026; U+2028 and U+2029 are escaped; other control characters use \n, \r, \t, \b, \f or
 * \u00XX; lone surrogates become U+FFFD.
 */
const SAFE = /^[\x20-\x7e]*$/;
const NEEDS_ESCAPE = /["\\<>&]/;

export function goJsonString(value: string): string {
  if (SAFE.test(value) && !NEEDS_ESCAPE.test(value)) return `"${value}"`;
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    switch (code) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += "\\\\";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
    }
    if (code < 0x20 || code === 0x3c || code === 0x3e || code === 0x26 || code === 0x2028 || code === 0x2029) {
      out += "\\u" + code.toString(16).padStart(4, "0");
    } else if (code >= 0xd800 && code <= 0xdfff) {
      const next = value.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += value[i]! + value[i + 1]!;
        i++;
      } else {
        out += "\ufffd";
      }
    } else {
      out += value[i];
    }
  }
  return out + '"';
}

/**
 * A value as Go's json.Marshal writes the Go value it stands for: strings as {@link goJsonString},
 * object keys in insertion order (a Go struct's field order), null for Go's nil slices and
 * pointers. Numbers must be finite integers or ordinary floats (Go writes 1e21 and up, and below
 * 1e-6, with an exponent; replies here never carry such values).
 */
export function goJsonValue(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new RangeError(`json: unsupported value: ${value}`);
      return String(value);
    case "bigint":
      return value.toString();
    case "string":
      return goJsonString(value);
  }
  // Array.from, not map: a hole becomes null as in JSON.stringify, not an empty slot.
  if (Array.isArray(value)) return `[${Array.from(value, goJsonValue).join(",")}]`;
  const fields = Object.entries(value as Record<string, unknown>).map(
    ([k, v]) => `${goJsonString(k)}:${goJsonValue(v)}`,
  );
  return `{${fields.join(",")}}`;
}
