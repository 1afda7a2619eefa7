/**
 * Test doubles for DNS transports.
 *
 * @module
 */
import { decodeMessage, type DnsMessage, type DnsRecord, encodeMessage } from "../../src/dns/message.ts";
import type { DnsTransport } from "../../src/dns/transport.ts";

/** A transport that answers from a function and records every query it saw. */
export class FakeTransport implements DnsTransport {
  readonly type = "fake";
  readonly tag: string;
  readonly queries: DnsMessage[] = [];
  readonly #answer: (q: DnsMessage) => Partial<DnsMessage> & { answers?: DnsRecord[] };

  constructor(tag: string, answer: (q: DnsMessage) => Partial<DnsMessage>) {
    this.tag = tag;
    this.#answer = answer;
  }

  exchange(query: Uint8Array): Promise<Uint8Array> {
    const q = decodeMessage(query);
    this.queries.push(q);
    const a = this.#answer(q);
    return Promise.resolve(encodeMessage({
      id: q.id,
      type: "response",
      flags: a.flags ?? 0x0180,
      questions: q.questions,
      answers: a.answers ?? [],
      authorities: a.authorities ?? [],
      additionals: a.additionals ?? [],
    }));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Wraps a transport and counts exchanges. */
export class CountingTransport implements DnsTransport {
  readonly type: string;
  readonly tag: string;
  count = 0;
  readonly inner: DnsTransport;
  constructor(inner: DnsTransport) {
    this.inner = inner;
    this.type = inner.type;
    this.tag = inner.tag;
  }
  exchange(query: Uint8Array, signal?: AbortSignal): Promise<Uint8Array> {
    this.count++;
    return this.inner.exchange(query, signal);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A and AAAA answers for any name: 10.0.0.1 / fd00::1 with `ttl`. */
export function addressAnswer(ttl = 60) {
  return (q: DnsMessage): Partial<DnsMessage> => {
    const question = q.questions[0];
    if (question.type === "A") {
      return { answers: [{ name: question.name, type: "A", class: "IN", ttl, data: "10.0.0.1" }] };
    }
    if (question.type === "AAAA") {
      return { answers: [{ name: question.name, type: "AAAA", class: "IN", ttl, data: "fd00::1" }] };
    }
    return {};
  };
}
