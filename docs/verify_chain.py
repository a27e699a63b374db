#!/usr/bin/env python3
"""Verify a casewire tenant's hash chain from an export, independently of casewire.

Input: JSON lines, one event per line, in tenant_seq order, each an object with the fields
of docs/audit-chain.md (as `casewire audit export` and the event stream give them).
Usage: python3 verify_chain.py [<seq>:<hash> ...] < events.jsonl
Each <seq>:<hash> is an anchor (a head recorded earlier): the trail must pass through it.
"""
import hashlib, json, struct, sys

def text(s):
    b = s.encode("utf-8")
    return struct.pack(">I", len(b)) + b

def event_hash(prev, e):
    h = hashlib.sha256(prev)
    h.update(text(e["tenant_id"]))
    h.update(struct.pack(">q", e["tenant_seq"]))
    for f in ("event_id", "aggregate_type", "aggregate_id"):
        h.update(text(e[f]))
    h.update(struct.pack(">q", e["sequence"]))
    for f in ("event_type", "event_version", "payload", "metadata", "recorded_at"):
        h.update(text(e[f]))
    return h.digest()

def main():
    anchors = {}
    for arg in sys.argv[1:]:
        seq, _, digest = arg.partition(":")
        anchors.setdefault(int(seq), []).append(digest.lower())
    prev, seq = bytes(32), 0
    for line in sys.stdin:
        if not line.strip():
            continue
        e = json.loads(line)
        seq += 1
        if e["tenant_seq"] != seq:
            sys.exit(f"BROKEN: event {seq} missing (the next event is {e['tenant_seq']})")
        if bytes.fromhex(e["prev_hash"]) != prev:
            sys.exit(f"BROKEN: event {seq} does not link to the event before it")
        h = event_hash(prev, e)
        if h.hex() != e["hash"]:
            sys.exit(f"BROKEN: event {seq} altered")
        if any(a != h.hex() for a in anchors.get(seq, [])):
            sys.exit(f"BROKEN: event {seq} does not match its head (an anchor)")
        prev = h
    beyond = [a for a in anchors if a > seq]
    if beyond:
        sys.exit(f"BROKEN: event {seq + 1} missing (an anchor was recorded at {min(beyond)})")
    print(f"OK {seq} {prev.hex()}")

if __name__ == "__main__":
    main()
