/**
 * A cheap look at a frame's text before JSON.parse: parsing an object costs far more per byte
 * when it is made of thousands of tiny keys than when it carries a few long strings (an SDP),
 * so frames with more keys and objects than any real request has are refused unparsed.
 */

/**
 * True when `text` holds more than `limit` key separators (`":`) and object openings (`{`)
 * together. A real announce with ten offers has about 80. Characters inside strings count too,
 * which only errs on the side of refusing; SDPs hold neither sequence.
 */
export function exceedsKeyLimit(text: string, limit: number): boolean {
  let n = 0;
  for (let i = text.indexOf('":'); i >= 0; i = text.indexOf('":', i + 2)) if (++n > limit) return true;
  for (let i = text.indexOf("{"); i >= 0; i = text.indexOf("{", i + 1)) if (++n > limit) return true;
  return false;
}
