#!/usr/bin/env python3
"""Image archives for the tests, written from the project's own `docker save` archives.

  fixtures.py redigest DIR                  fix digests of an unpacked docker-save DIR in
                                            place (diff_ids, config name) after a test
                                            edited its layers: hostile but consistent
  fixtures.py oci SRC OUT [--gzip|--zstd] [--docker25] [--nested] [--tag REF]
                                            SRC as an OCI image layout archive (layers
                                            compressed by gzip or zstd -3); --docker25
                                            adds manifest.json as Docker 25+ writes it;
                                            --nested wraps the manifest in an index with a
                                            foreign-platform sibling, under a second index
  fixtures.py multi OUT SRC:TAG...          several images in one docker-save archive
  fixtures.py zstd SRC OUT [KIND]           SRC as an OCI archive with zstd layers (zstd -19 --long, the
                                            first layer in two frames around a skippable
                                            one, as zstd:chunked writes); KIND corrupts the
                                            first: magic, table, checksum or truncated
  fixtures.py shared SRC OUT                a:latest (SRC), b:latest (its layers as a symlink
                                            and a hard link to a's, as docker save writes a
                                            shared layer) and c:latest (a's last layer twice)
  fixtures.py media SRC OUT TYPE            an OCI archive whose top layer (a plain tar) has
                                            media type TYPE
  fixtures.py reblob SRC OUT KIND [--zstd]  an OCI archive (gzip layers, or zstd) whose first
                                            layer's blob, still under the manifest's digest,
                                            is: other, the compression of that tar with one
                                            byte of a file changed (its size in the manifest
                                            true); header, the same gzip with another mtime
                                            in its header (the same tar decoded)
"""
import gzip, hashlib, io, json, os, subprocess, sys, tarfile

def sha(b):
    return hashlib.sha256(b).hexdigest()

def read_tar(path):
    with tarfile.open(path) as t:
        return {m.name.lstrip('./') if m.name.startswith('./') else m.name: t.extractfile(m).read()
                for m in t.getmembers() if m.isfile()}

def write_tar(path, files, links={}):
    """files: name -> bytes; links: name -> (tarfile.SYMTYPE or LNKTYPE, target)"""
    with tarfile.open(path, 'w', format=tarfile.PAX_FORMAT) as t:
        for name in sorted(files) + sorted(links): # a hard link after its target
            info = tarfile.TarInfo(name)
            info.mtime, info.mode = 0, 0o644
            if name in links:
                info.type, info.linkname = links[name]
                t.addfile(info)
            else:
                info.size = len(files[name])
                t.addfile(info, io.BytesIO(files[name]))

def zstd(b, *flags):
    return subprocess.run(['zstd', '-q', '-c'] + list(flags), input=b, stdout=subprocess.PIPE, check=True).stdout

def zstd_corrupt(z, kind):
    """z with one thing wrong, at a place the decoder names."""
    z = bytearray(z)
    if kind == 'magic':
        z[0] ^= 0xff
    elif kind == 'checksum':
        z[-1] ^= 0xff
    elif kind == 'truncated':
        z = z[:len(z) // 2]
    elif kind == 'table':
        # The first compressed block's sequences section: every table "repeat the
        # previous block's", which the first block has none of.
        fhd = z[4]
        pos = 5 + (not fhd & 0x20) + [0, 1, 2, 4][fhd & 3] + [int(bool(fhd & 0x20)), 2, 4, 8][fhd >> 6]
        while True:
            h = int.from_bytes(z[pos:pos + 3], 'little')
            size, kind_ = h >> 3, h >> 1 & 3
            if kind_ == 2:
                break
            pos += 3 + (1 if kind_ == 1 else size)
        b = pos + 3
        t, f = z[b] & 3, z[b] >> 2 & 3
        if t < 2:
            hs = {0: 1, 1: 2, 2: 1, 3: 3}[f]
            regen = int.from_bytes(z[b:b + hs], 'little') >> (3 if hs == 1 else 4)
            b += hs + (regen if t == 0 else 1)
        else:
            hs = 3 if f < 2 else f + 2
            bits = 10 if f < 2 else 14 if f == 2 else 18
            b += hs + (int.from_bytes(z[b:b + hs], 'little') >> (4 + bits) & ((1 << bits) - 1))
        b += 1 if z[b] < 128 else 2 if z[b] < 255 else 3
        z[b] = 0xfc
    return bytes(z)

def plain(b):
    return gzip.decompress(b) if b[:2] == b'\x1f\x8b' else b

def redigest(d):
    manifest = json.load(open(os.path.join(d, 'manifest.json')))
    for m in manifest:
        config = json.load(open(os.path.join(d, m['Config'])))
        config['rootfs']['diff_ids'] = ['sha256:' + sha(plain(open(os.path.join(d, l), 'rb').read())) for l in m['Layers']]
        body = json.dumps(config, separators=(',', ':')).encode()
        os.remove(os.path.join(d, m['Config']))
        m['Config'] = sha(body) + '.json'
        open(os.path.join(d, m['Config']), 'wb').write(body)
    json.dump(manifest, open(os.path.join(d, 'manifest.json'), 'w'))

def image_of(files, entry):
    config = files[entry['Config']]
    return config, [files[l] for l in entry['Layers']], entry.get('RepoTags') or []

def tampered(l):
    """the tar l with the first byte of its first non-empty file changed"""
    with tarfile.open(fileobj=io.BytesIO(l)) as t:
        at = next(m.offset_data for m in t.getmembers() if m.isfile() and m.size)
    return l[:at] + bytes([l[at] ^ 1]) + l[at + 1:]

def oci(src, out, compress=False, docker25=False, nested=False, tag=None, zstd_kind=None, top_media=None, reblob=None):
    files = read_tar(src)
    config, layers, tags = image_of(files, json.loads(files['manifest.json'])[0])
    blobs = {}
    def blob(b, media):
        h = sha(b)
        blobs['blobs/sha256/' + h] = b
        return {'mediaType': media, 'digest': 'sha256:' + h, 'size': len(b)}
    def compressed(l):
        return zstd(l, '-3') if compress == 'zstd' else gzip.compress(l, mtime=0)
    descs = []
    for i, l in enumerate(layers):
        if reblob and i == 0:
            desc = blob(compressed(l), 'application/vnd.oci.image.layer.v1.tar+' + ('zstd' if compress == 'zstd' else 'gzip'))
            if reblob == 'other':
                b = compressed(tampered(l))
            else: # the gzip header's mtime, bytes 4 to 7
                b = blobs[desc['digest'].replace('sha256:', 'blobs/sha256/')]
                b = b[:4] + b'\x01' + b[5:]
            blobs[desc['digest'].replace('sha256:', 'blobs/sha256/')] = b
            descs.append({**desc, 'size': len(b)})
        elif zstd_kind and i == 0:
            half = len(l) // 2
            z = zstd(l[:half], '-19', '--long') + b'\x5e\x2a\x4d\x18\x03\x00\x00\x00toc' + zstd(l[half:], '-3')
            if zstd_kind != 'ok':
                z = zstd_corrupt(zstd(l, '-3'), zstd_kind)
            descs.append(blob(z, 'application/vnd.oci.image.layer.v1.tar+zstd'))
        elif zstd_kind:
            descs.append(blob(zstd(l, '-1'), 'application/vnd.oci.image.layer.v1.tar+zstd'))
        elif top_media and i == len(layers) - 1:
            descs.append(blob(l, top_media))
        elif compress == 'zstd':
            descs.append(blob(compressed(l), 'application/vnd.oci.image.layer.v1.tar+zstd'))
        elif compress:
            descs.append(blob(compressed(l), 'application/vnd.oci.image.layer.v1.tar+gzip'))
        else:
            descs.append(blob(l, 'application/vnd.oci.image.layer.v1.tar'))
    cfg = blob(config, 'application/vnd.oci.image.config.v1+json')
    manifest = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json', 'config': cfg, 'layers': descs}
    mdesc = blob(json.dumps(manifest).encode(), manifest['mediaType'])
    ref = tag or (tags[0] if tags else 'latest')
    top = mdesc
    if nested:
        other = blob(json.dumps({**manifest, 'layers': []}).encode(), manifest['mediaType'])
        inner = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': [
            {**other, 'platform': {'architecture': 'arm64', 'os': 'linux'}},
            {**mdesc, 'platform': {'architecture': 'amd64', 'os': 'linux'}}]}
        top = blob(json.dumps(inner).encode(), inner['mediaType'])
    top = {**top, 'annotations': {'io.containerd.image.name': 'docker.io/library/' + ref, 'org.opencontainers.image.ref.name': ref.split(':')[-1]}}
    blobs['index.json'] = json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.index.v1+json', 'manifests': [top]}).encode()
    blobs['oci-layout'] = b'{"imageLayoutVersion":"1.0.0"}'
    if docker25:
        blobs['manifest.json'] = json.dumps([{'Config': 'blobs/sha256/' + cfg['digest'][7:], 'RepoTags': [ref],
                                              'Layers': ['blobs/sha256/' + d['digest'][7:] for d in descs]}]).encode()
    write_tar(out, blobs)

def multi(out, specs):
    files, manifest = {}, []
    for spec in specs:
        src, ref = spec.rsplit(':', 2)[0], ':'.join(spec.rsplit(':', 2)[1:])
        f = read_tar(src)
        entry = json.loads(f['manifest.json'])[0]
        for name in [entry['Config']] + entry['Layers']:
            files[name] = f[name]
        manifest.append({**entry, 'RepoTags': [ref]})
    files['manifest.json'] = json.dumps(manifest).encode()
    write_tar(out, files)

def shared(src, out):
    files = read_tar(src)
    entry = json.loads(files['manifest.json'])[0]
    a = {**entry, 'RepoTags': ['a:latest']}
    config = json.loads(files[entry['Config']])
    def image(tag, env, layers, diff_ids):
        c = json.loads(json.dumps(config))
        c['config']['Env'] = c['config'].get('Env', []) + ['IMAGE=' + env]
        c['rootfs']['diff_ids'] = diff_ids
        body = json.dumps(c).encode()
        files[sha(body) + '.json'] = body
        return {'Config': sha(body) + '.json', 'RepoTags': [tag], 'Layers': layers}
    ids = config['rootfs']['diff_ids']
    links = {}
    b_layers = []
    for i, l in enumerate(entry['Layers']):
        name = '%064x/layer.tar' % (i + 1)
        links[name] = (tarfile.SYMTYPE, '../' + l) if i == 0 else (tarfile.LNKTYPE, l)
        b_layers.append(name)
    manifest = [a, image('b:latest', 'b', b_layers, ids),
                image('c:latest', 'c', entry['Layers'] + entry['Layers'][-1:], ids + ids[-1:])]
    files['manifest.json'] = json.dumps(manifest).encode()
    write_tar(out, files, links)

if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'redigest':
        redigest(args[0])
    elif cmd == 'oci':
        tag = args[args.index('--tag') + 1] if '--tag' in args else None
        compress = 'zstd' if '--zstd' in args else '--gzip' in args
        oci(args[0], args[1], compress, '--docker25' in args, '--nested' in args, tag)
    elif cmd == 'multi':
        multi(args[0], args[1:])
    elif cmd == 'zstd':
        oci(args[0], args[1], zstd_kind=args[2] if len(args) > 2 else 'ok')
    elif cmd == 'shared':
        shared(args[0], args[1])
    elif cmd == 'media':
        oci(args[0], args[1], top_media=args[2])
    elif cmd == 'reblob':
        oci(args[0], args[1], 'zstd' if '--zstd' in args else True, reblob=args[2])
    else:
        sys.exit(__doc__)
