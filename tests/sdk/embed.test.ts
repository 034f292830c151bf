import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readEmbedOptions } from "../../sdk/src/embed/attributes";
import { resolveOptions, SwarmcastOptionError } from "../../sdk/src/options";

const element = (attrs: Record<string, string>) => ({
  getAttribute: (name: string) => (name in attrs ? attrs[name] : null),
});

describe("embed attributes", () => {
  it("reads every data-swarmcast-* attribute", () => {
    const options = readEmbedOptions(
      element({
        "data-swarmcast-src": "https://cdn.example/live.m3u8",
        "data-swarmcast-tracker": " ws://a.example:8000, wss://b.example  wss://c.example ",
        "data-swarmcast-swarm": "channel-1",
        "data-swarmcast-token": "tok",
        "data-swarmcast-ice": "stun:s.example:3478 turn:t.example",
      }),
    );
    assert.deepEqual(options, {
      src: "https://cdn.example/live.m3u8",
      trackers: ["ws://a.example:8000", "wss://b.example", "wss://c.example"],
      swarmId: "channel-1",
      token: "tok",
      iceServers: [{ urls: "stun:s.example:3478" }, { urls: "turn:t.example" }],
    });
  });

  it("turns P2P off with data-swarmcast-p2p=off and rejects unknown values", () => {
    for (const value of ["off", "OFF", "false", "0"]) {
      assert.equal(
        readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-p2p": value })).p2p,
        false,
      );
    }
    assert.equal(readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-p2p": "on" })).p2p, true);
    assert.throws(
      () => readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-p2p": "maybe" })),
      (err: unknown) =>
        err instanceof SwarmcastOptionError &&
        /data-swarmcast-p2p must be "on" or "off", got "maybe"/.test(err.message),
    );
  });

  it("reads integrity, the integrity map, the upload cap and upload consent, naming the option on a bad value", () => {
    const options = readEmbedOptions(
      element({
        "data-swarmcast-src": "a.m3u8",
        "data-swarmcast-integrity": "required",
        "data-swarmcast-integrity-map": "/hashes.json",
        "data-swarmcast-max-upload-kbps": "800",
        "data-swarmcast-upload": "off",
      }),
    );
    assert.deepEqual(options, {
      src: "a.m3u8",
      integrity: "required",
      integrityMap: "/hashes.json",
      maxUploadKbps: 800,
      upload: false,
    });
    assert.equal(
      readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-upload": "auto" })).upload,
      "auto",
    );
    for (const [name, value, option] of [
      ["max-upload-kbps", "fast", "maxUploadKbps"],
      ["max-upload-kbps", "-1", "maxUploadKbps"],
      ["upload", "sometimes", "upload"],
    ]) {
      assert.throws(
        () => readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8", [`data-swarmcast-${name}`]: value })),
        (err: unknown) =>
          err instanceof SwarmcastOptionError &&
          err.option === option &&
          err.message.includes(`data-swarmcast-${name}`),
      );
    }
    const badMode = readEmbedOptions(
      element({
        "data-swarmcast-src": "a.m3u8",
        "data-swarmcast-tracker": "ws://t.example",
        "data-swarmcast-integrity": "strict",
      }),
    );
    assert.throws(
      () => resolveOptions(badMode, { requireSrc: true }),
      (err: unknown) => err instanceof SwarmcastOptionError && err.option === "integrity",
    );
  });

  it("gives an empty ICE list for an empty data-swarmcast-ice and leaves absent ones unset", () => {
    const options = readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-ice": "" }));
    assert.deepEqual(options.iceServers, []);
    assert.deepEqual(readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8" })), { src: "a.m3u8" });
  });

  it("produces options that attach() validates with the usual messages", () => {
    const noTracker = readEmbedOptions(element({ "data-swarmcast-src": "a.m3u8" }));
    assert.throws(() => resolveOptions(noTracker, { requireSrc: true }), /"trackers" is required/);
    const badTracker = readEmbedOptions(
      element({ "data-swarmcast-src": "a.m3u8", "data-swarmcast-tracker": "https://t.example" }),
    );
    assert.throws(
      () => resolveOptions(badTracker, { requireSrc: true }),
      /"trackers\[0\]" must be a ws:\/\/ or wss:\/\/ URL/,
    );
    const noSrc = readEmbedOptions(element({ "data-swarmcast-tracker": "ws://t.example" }));
    assert.throws(() => resolveOptions(noSrc, { requireSrc: true }), /"src" is required/);
  });
});
