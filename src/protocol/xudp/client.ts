/**
 * The XUDP client side (sing-vmess `xudp.go`, Xray `common/xudp`): one Mux.Cool session (ID 0)
 * per VMess/VLESS connection with command 3. The first datagram opens it with a New frame, the
 * others go in Keep frames; both name the datagram's destination. Replies are Keep frames that
 * name their source (or, without an address, come from the first destination).
 *
 * @module
 */
import type { Packet, Socksaddr } from "../../adapter/types.ts";
import type { ByteQueue } from "../../common/byte_queue.ts";
import { ProtocolError } from "../../common/errors.ts";
import type { PacketFraming } from "../../common/stream_packet_conn.ts";
import {
  decodeMuxCoolFrame,
  encodeMuxCoolFrame,
  NETWORK_UDP,
  OPTION_DATA,
  OPTION_ERROR,
  STATUS_END,
  STATUS_KEEP,
  STATUS_NEW,
} from "./frame.ts";

/**
 * Packet framing of an XUDP client over a mux-command stream. `destination` is the first peer,
 * the source of replies that carry no address.
 *
 * @throws {ProtocolError} From `decode` on a malformed frame, a New frame from the server, or an
 *   End frame with the error option.
 */
export function xudpClientFraming(destination: Socksaddr): PacketFraming {
  let opened = false;
  return {
    encode(data: Uint8Array, addr: Socksaddr): Uint8Array {
      const status = opened ? STATUS_KEEP : STATUS_NEW;
      opened = true;
      return encodeMuxCoolFrame({
        sessionId: 0,
        status,
        option: OPTION_DATA,
        target: { network: NETWORK_UDP, address: addr },
        data,
      });
    },
    decode(q: ByteQueue): Packet | null | "eof" {
      for (;;) {
        const d = decodeMuxCoolFrame(q.peek());
        if (!d) return null;
        q.consume(d.length);
        const f = d.value;
        if (f.status === STATUS_NEW) {
          throw new ProtocolError("xudp", 4, "unexpected New frame from the server");
        }
        if (f.status === STATUS_END) {
          if (f.option & OPTION_ERROR) throw new ProtocolError("xudp", 5, "remote closed with an error");
          return "eof";
        }
        if (f.status !== STATUS_KEEP || !f.data) continue;
        return { data: f.data.slice(), addr: f.target?.address ?? destination };
      }
    },
  };
}
