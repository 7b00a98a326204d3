import { readFileSync } from 'node:fs';

/** docs/export-format.md, read from the repository. */
export const EXPORT_FORMAT_DOC = readFileSync(new URL('../../../docs/export-format.md', import.meta.url), 'utf8');

/** The fenced blocks tagged `worked-example:NAME` in the doc, by NAME. */
export function workedExampleBlocks(doc = EXPORT_FORMAT_DOC): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of doc.matchAll(/^```\w+ worked-example:([\w-]+)\n([\s\S]*?)\n```$/gm)) blocks.set(m[1]!, m[2]!);
  return blocks;
}

/** `name = value` lines of a block (lines starting with `#` are comments). */
export function keyValues(block: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of block.split('\n')) {
    if (line.startsWith('#') || !line.includes(' = ')) continue;
    const at = line.indexOf(' = ');
    out.set(line.slice(0, at).trim(), line.slice(at + 3).trim());
  }
  return out;
}
