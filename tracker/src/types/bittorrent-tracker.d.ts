// The reference tracker ships no types; tests and the load bench use only this much of it.
declare module "bittorrent-tracker/server" {
  import type { EventEmitter } from "node:events";
  import type { Server as HttpServer } from "node:http";
  export default class Server extends EventEmitter {
    constructor(opts?: Record<string, unknown>);
    http: HttpServer;
    listen(port: number, host: string, cb?: () => void): void;
    close(cb?: () => void): void;
  }
}
