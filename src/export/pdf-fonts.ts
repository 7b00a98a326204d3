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
