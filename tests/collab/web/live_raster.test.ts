/**
 * The live view's whole-repaint raster (collab/web/browser/plot/_live_raster.ts): the colours it writes
 * are the live view's styles as ImageData pixels, alpha included (the band is translucent), and a
 * colour it cannot read is refused by name. Its pixels against the canvas's own rectangles are
 * checked in Chromium (tests/collab/web/live_plot_browser.test.ts: strips against a whole repaint).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { rgbaWord } from "../../../collab/web/browser/plot/_live_raster.ts";
import { LIVE_STYLE } from "../../../collab/web/browser/plot/live_plot.ts";

const test = suite("dashboard live raster colours");

/** The RGBA bytes of a pixel word, in ImageData's order. */
const bytes = (w: number) => [w & 255, (w >>> 8) & 255, (w >>> 16) & 255, w >>> 24];

test("rgbaWord() reads the live view's line colours as opaque RGBA", () => {
  assert.equal(bytes(rgbaWord(LIVE_STYLE.expected)), [0x4f, 0xa3, 0xff, 255]);
  assert.equal(bytes(rgbaWord(LIVE_STYLE.value)), [0xd8, 0xde, 0xe6, 255]);
});

test("rgbaWord() keeps the band's alpha, as 8 bits the way the canvas rounds it", () => {
  assert.equal(bytes(rgbaWord(LIVE_STYLE.band)), [79, 163, 255, Math.round(0.18 * 255)]);
  assert.equal(bytes(rgbaWord("rgb(1, 2, 3)")), [1, 2, 3, 255]);
});

test("rgbaWord() refuses a colour it cannot read, naming it", () => {
  assert.throws(() => rgbaWord("hsl(10, 20%, 30%)"), /got hsl\(10, 20%, 30%\)/);
});

test.run();
