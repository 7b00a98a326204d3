#!/usr/bin/env python3
"""Usage: [SECRET_KEY=...] python3 verify_export.py EXPORT.csv [SIGNED_BYTES_OUT]  (exit 0 = valid)
Checks a Trailmark CSV export (trailmark-audit-csv/1): header, row chain, counts, final hash, and the manifest
HMAC when SECRET_KEY is set. No Ed25519 in Python's stdlib: save signed_bytes for openssl (docs/export-format.md)."""
import hashlib, hmac, json, os, sys
HEADER = b'seq,timestamp,action,severity,actor_type,actor_id,actor_name,resource_type,resource_id,resource_name,description,details,row_hash'
def fail(why): sys.exit(f'INVALID: {why}')
records, pending = [], None
for part in open(sys.argv[1], 'rb').read().split(b'\r\n'):  # a record ends at a CRLF outside quotes
    pending = part if pending is None else pending + b'\r\n' + part
    if pending.count(b'"') % 2 == 0: records.append(pending); pending = None
if pending is not None or records[-1:] != [b'']: fail('the file does not end with a complete record and CRLF')
records = records[:-1]
if not records or records[0] != HEADER: fail('wrong header')
if len(records) < 2 or not records[-1].startswith(b'"#manifest:'): fail('the last record is not the manifest')
h, seqs = hashlib.sha256(b'trailmark:audit-export:v1').digest(), []
for n, rec in enumerate(records[1:-1], start=2):
    h = hashlib.sha256(h + rec[:-65]).digest()  # content = the record up to the comma before row_hash
    if rec[-65:] != b',' + h.hex().encode() or not rec.split(b',', 1)[0].isdigit(): fail(f'record {n}: row_hash does not match')
    seqs.append(int(rec.split(b',', 1)[0]))
m = json.loads(records[-1][1:-1].replace(b'""', b'"')[len(b'#manifest:'):])
want = {'row_count': len(seqs), 'first_seq': seqs[0] if seqs else None, 'last_seq': seqs[-1] if seqs else None, 'final_hash': h.hex()}
for key, value in want.items():
    if json.dumps(m.get(key)) != json.dumps(value): fail(f'manifest {key} is {m.get(key)!r}, the rows say {value!r}')
signed = json.dumps({k: v for k, v in m.items() if k not in ('hmac', 'signature')}, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()
if os.environ.get('SECRET_KEY'):
    k = hmac.new(os.environ['SECRET_KEY'].encode(), b'trailmark:export-manifest:v1', hashlib.sha256).digest()
    if not hmac.compare_digest(hmac.new(k, signed, hashlib.sha256).hexdigest().encode(), str(m.get('hmac')).encode()): fail('manifest HMAC does not match')
if len(sys.argv) > 2: open(sys.argv[2], 'wb').write(signed)
print(f"VALID: {len(seqs)} rows, seq {want['first_seq']}..{want['last_seq']}, final_hash {h.hex()}, HMAC {'verified' if os.environ.get('SECRET_KEY') else 'not checked'}, key_id {m.get('key_id')}, signature {m.get('signature')}")
