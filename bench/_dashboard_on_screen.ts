/**
 * Which of the dashboard bench's cards are on screen: its live views (`canvas.live-plot`) that
 * intersect the window, as the cards' own IntersectionObserver sees them; with `--all-visible`,
 * the window made as tall as the page first, and a run refused unless every view shows.
 */
import type { Page } from "playwright-core";
import { sleep } from "./_sleep.ts";

/** How many of a page's live views intersect its window, of how many. */
export interface OnScreen {
  shown: number;
  all: number;
}

/** The live views on screen once the page has settled; with `--all-visible`, the window made
 *  tall enough first, and every view required on screen. */
export async function cardsShown(
  page: Page,
  mode: string,
  allVisible: boolean,
): Promise<OnScreen> {
  if (allVisible) await showAllCards(page);
  await sleep(300);
  const onScreen = await liveViewsOnScreen(page);
  if (allVisible && onScreen.shown !== onScreen.all) {
    throw new Error(
      `--all-visible: ${mode}'s page shows ${onScreen.shown} of its ${onScreen.all} live views ` +
        `in a window ${page.viewportSize()?.height} px high`,
    );
  }
  return onScreen;
}

/** `--all-visible`: the window made as tall as the page (its width kept), so every card shows. */
async function showAllCards(page: Page): Promise<void> {
  const size = page.viewportSize();
  if (!size) throw new Error("--all-visible needs a page with a fixed viewport");
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (height > size.height) await page.setViewportSize({ width: size.width, height });
}

/** How many of the page's live views (`canvas.live-plot`) intersect its window, as an
 *  IntersectionObserver (the one the cards' OnScreen uses) first reports them. */
async function liveViewsOnScreen(page: Page): Promise<OnScreen> {
  return await page.evaluate(() => {
    const views = [...document.querySelectorAll("canvas.live-plot")];
    return new Promise<OnScreen>((resolve) => {
      if (views.length === 0) return resolve({ shown: 0, all: 0 });
      const io = new IntersectionObserver((entries) => {
        io.disconnect();
        resolve({ shown: entries.filter((e) => e.isIntersecting).length, all: views.length });
      });
      for (const v of views) io.observe(v);
    });
  });
}
