#!/usr/bin/env python3
"""Image archives for the tests, written from the project's own `docker save` archives.

  fixtures.py redigest DIR                  fix digests of an unpacked docker-save DIR in
                                            place (diff_ids, config name) after a test
                                            edited its layers: hostile but consistent
  fixtures.py oci SRC OUT [--gzip] [--docker25] [--nested] [--tag REF]
                                            SRC as an OCI image layout archive; --docker25
                                            adds manifest.json as Docker 25+ writes it;
                                            --nested wraps the manifest in an index with a
                                            foreign-platform sibling, under a second index
  fixtures.py multi OUT SRC:TAG...          several images in one docker-save archive
  fixtures.py zstd SRC OUT                  an OCI archive whose top layer claims zstd
  fixtures.py media SRC OUT TYPE            an OCI archive whose top layer (a plain tar) has
                                            media type TYPE
"""
import gzip, hashlib, io, json, os, sys, tarfile

def sha(b):
    return hashlib.sha256(b).hexdigest()

def read_tar(path):
    with tarfile.open(path) as t:
        return {m.name.lstrip('./') if m.name.startswith('./') else m.name: t.extractfile(m).read()
                for m in t.getmembers() if m.isfile()}

def write_tar(path, files):
    with tarfile.open(path, 'w', format=tarfile.PAX_FORMAT) as t:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(files[name]), 0, 0o644
            t.addfile(info, io.BytesIO(files[name]))

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

def oci(src, out, compress=False, docker25=False, nested=False, tag=None, zstd_top=False, top_media=None):
    files = read_tar(src)
    config, layers, tags = image_of(files, json.loads(files['manifest.json'])[0])
    blobs = {}
    def blob(b, media):
        h = sha(b)
        blobs['blobs/sha256/' + h] = b
        return {'mediaType': media, 'digest': 'sha256:' + h, 'size': len(b)}
    descs = []
    for i, l in enumerate(layers):
        if zstd_top and i == len(layers) - 1:
            descs.append(blob(b'\x28\xb5\x2f\xfd' + l[:64], 'application/vnd.oci.image.layer.v1.tar+zstd'))
        elif top_media and i == len(layers) - 1:
            descs.append(blob(l, top_media))
        elif compress:
            descs.append(blob(gzip.compress(l, mtime=0), 'application/vnd.oci.image.layer.v1.tar+gzip'))
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

if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == 'redigest':
        redigest(args[0])
    elif cmd == 'oci':
        tag = args[args.index('--tag') + 1] if '--tag' in args else None
        oci(args[0], args[1], '--gzip' in args, '--docker25' in args, '--nested' in args, tag)
    elif cmd == 'multi':
        multi(args[0], args[1:])
    elif cmd == 'zstd':
        oci(args[0], args[1], zstd_top=True)
    elif cmd == 'media':
        oci(args[0], args[1], top_media=args[2])
    else:
        sys.exit(__doc__)
