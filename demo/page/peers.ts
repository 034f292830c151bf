/**
 * The peer table, like a torrent client's: one row per peer this viewer is connected to, and
 * peers that left stay a little while, greyed, with their final figures.
 */
import type { PeerStats } from "../../sdk/src/index";
import { formatAge, formatBytes, formatRate, shortPeerId } from "./format.js";

/** How long a closed peer stays in the table. */
const CLOSED_ROW_MS = 20_000;

interface Row {
  peer: PeerStats;
  closedAt: number | null;
}

export class PeerTable {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly empty: HTMLElement,
  ) {}

  update(peers: PeerStats[], now: number): void {
    const seen = new Set<string>();
    for (const peer of peers) {
      seen.add(peer.id);
      this.rows.set(peer.id, { peer, closedAt: null });
    }
    for (const [id, row] of this.rows) {
      if (seen.has(id)) continue;
      if (row.closedAt === null) {
        row.closedAt = now;
        row.peer = { ...row.peer, downRate: 0, upRate: 0 };
      } else if (now - row.closedAt > CLOSED_ROW_MS) {
        this.rows.delete(id);
      }
    }
    this.render(now);
  }

  private render(now: number): void {
    const rows = [...this.rows.values()].sort((a, b) => a.peer.connectedAt - b.peer.connectedAt);
    this.empty.hidden = rows.length > 0;
    const cells = (row: Row): Array<[string, string?]> => {
      const p = row.peer;
      return [
        [shortPeerId(p.id), "mono"],
        [row.closedAt === null ? "connected" : "closed", row.closedAt === null ? "state ok" : "state gone"],
        [formatRate(p.downRate), "num"],
        [formatRate(p.upRate), "num"],
        [formatBytes(p.bytesDown), "num"],
        [formatBytes(p.bytesUp), "num"],
        [String(p.segmentsDown), "num"],
        [formatAge(p.connectedAt, row.closedAt ?? now), "num"],
      ];
    };
    const fragment = document.createDocumentFragment();
    for (const row of rows) {
      const tr = document.createElement("tr");
      tr.dataset.peer = row.peer.id;
      if (row.closedAt !== null) tr.className = "closed";
      tr.title = `peer id ${row.peer.id}`;
      for (const [text, cls] of cells(row)) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      fragment.append(tr);
    }
    this.body.replaceChildren(fragment);
  }
}
