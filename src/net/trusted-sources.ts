/**
 * The sources allowed to send a PROXY protocol header (`tcp.servers.<name>.proxy_trusted`): a
 * list of CIDR blocks, IPv4 or IPv6, matched with Node's own BlockList. A header from anywhere
 * else would let any client claim any address, so the connection is refused before a byte of it
 * is read.
 */
import { BlockList, isIP } from "node:net";
import { AddressError } from "./errors.js";

/** Parsed once from the config. */
export interface TrustedSources {
  /** True when the peer address (as a socket reports it) is inside one of the blocks. */
  trusts(address: string | undefined): boolean;
  /** The blocks as configured, for messages. */
  readonly blocks: readonly string[];
}

/**
 * Parses `blocks` (`10.0.0.0/8`, `::1/128`; an address without a prefix is that one address).
 *
 * @throws AddressError naming the first entry that is not a CIDR block.
 */
export function parseTrustedSources(blocks: readonly string[]): TrustedSources {
  const list = new BlockList();
  for (const block of blocks) {
    const slash = block.indexOf("/");
    const address = slash < 0 ? block : block.slice(0, slash);
    const version = isIP(address);
    if (version === 0) {
      throw new AddressError(
        block,
        "listen",
        `${JSON.stringify(block)} is not a CIDR block: ${JSON.stringify(address)} is not an IP address`,
      );
    }
    const max = version === 4 ? 32 : 128;
    const prefixText = slash < 0 ? String(max) : block.slice(slash + 1);
    const prefix = /^(0|[1-9][0-9]{0,2})$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix <= max)) {
      throw new AddressError(
        block,
        "listen",
        `${JSON.stringify(block)} is not a CIDR block: the prefix length must be 0..${max}`,
      );
    }
    list.addSubnet(address, prefix, version === 4 ? "ipv4" : "ipv6");
  }
  return {
    blocks: [...blocks],
    trusts(peer) {
      if (peer === undefined) return false;
      // A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; the blocks say a.b.c.d.
      const unmapped = peer.startsWith("::ffff:") && isIP(peer.slice(7)) === 4 ? peer.slice(7) : peer;
      const version = isIP(unmapped);
      if (version === 0) return false;
      return list.check(unmapped, version === 4 ? "ipv4" : "ipv6");
    },
  };
}
