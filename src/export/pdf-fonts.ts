import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * TrueType files the bundle embeds. PDF/A forbids relying on the viewer's fonts, and
 * pdfkit's built-in standard-14 fonts are never embedded, so the fonts come from an npm
 * package (dejavu-fonts-ttf, Bitstream Vera licence): every machine that runs `npm ci` has
 * them, with nothing to install from the operating system.
 */
export const BUNDLE_FONTS = {
  regular: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf'),
  bold: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf'),
  mono: require.resolve('dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf'),
} as const;

export type BundleFont = keyof typeof BUNDLE_FONTS;

/** The part of a fontkit font pdfkit recognises it by (it accepts a parsed font as a font source). */
interface ParsedFont {
  layout(...args: unknown[]): unknown;
}

let parsed: Record<BundleFont, ParsedFont> | null = null;

/**
 * The bundle fonts parsed once per process, to give `doc.registerFont`. Given a path, pdfkit
 * reads and parses the file for every document; a parsed font it uses as it is, and makes
 * each document's subset from it (what it caches inside are decoded tables and glyphs, the
 * same for every document). The parser is the fontkit pdfkit itself loads, so the bytes
 * written are the ones pdfkit would write from the path.
 */
export function bundleFonts(): Record<BundleFont, ParsedFont> {
  if (!parsed) {
    const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(buffer: Buffer): ParsedFont };
    parsed = {
      regular: fontkit.create(readFileSync(BUNDLE_FONTS.regular)),
      bold: fontkit.create(readFileSync(BUNDLE_FONTS.bold)),
      mono: fontkit.create(readFileSync(BUNDLE_FONTS.mono)),
    };
  }
  return parsed;
}
