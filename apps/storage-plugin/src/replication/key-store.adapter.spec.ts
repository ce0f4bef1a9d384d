import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { KeyStoreAdapter } from './key-store.adapter';

const id = (n: number) => n.toString(16).padStart(64, '0');

describe('KeyStoreAdapter', () => {
  const root = pluginRoot('key-store');
  const adapter = new KeyStoreAdapter(pluginConfig(join(root.path, 'plugin')));
  afterAll(() => root.remove());

  it('reads and writes a local repository\'s keys/ whole, read-only like its config, and never under a name that is no id', async () => {
    const repo = join(root.path, 'repo');
    mkdirSync(join(repo, 'keys'), { recursive: true });
    writeFileSync(join(repo, 'config'), 'x');
    chmodSync(join(repo, 'config'), 0o440);
    writeFileSync(join(repo, 'keys', `${id(2)}-tmp-1234`), 'half');
    const store = adapter.storeFor(`local:${repo}`)!;
    await store.write(id(1), Buffer.from('key one'));
    expect(await store.list()).toEqual([id(1)]);
    expect((await store.read(id(1))).toString()).toBe('key one');
    expect(statSync(join(repo, 'keys', id(1))).mode & 0o777).toBe(0o440);
    expect(readdirSync(join(repo, 'keys')).sort()).toEqual([id(1), `${id(2)}-tmp-1234`]);
    await expect(store.read('../config')).rejects.toThrow(/not a key id/);
    await store.remove(id(1));
    await store.remove(id(1)); // gone already: no error
    expect(await adapter.storeFor(repo)!.list()).toEqual([]);
  });

  it("reads only a regular key file of a key file's size: no FIFO waited on, no symlink followed (to /dev/zero or anywhere)", async () => {
    const repo = join(root.path, 'hostile');
    mkdirSync(join(repo, 'keys'), { recursive: true });
    execFileSync('mkfifo', [join(repo, 'keys', id(1))]);
    symlinkSync('/dev/zero', join(repo, 'keys', id(2)));
    writeFileSync(join(repo, 'keys', id(3)), Buffer.alloc(64 * 1024 + 1));
    writeFileSync(join(repo, 'keys', id(4)), 'a key');
    const store = adapter.storeFor(repo)!;
    for (const n of [1, 2, 3]) await expect(store.read(id(n))).rejects.toThrow(/is not a regular file of a key file's size/);
    expect((await store.read(id(4))).toString()).toBe('a key');
    await expect(store.read(id(5))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('has no store for backends it cannot write without restic', () => {
    expect(adapter.storeFor('s3:https://s3.example.net/bucket/vol')).toBeUndefined();
    expect(adapter.storeFor('sftp:user@host:/srv/vol')).toBeUndefined();
    expect(adapter.storeFor('rest:not a url')).toBeUndefined();
    expect(new KeyStoreAdapter(pluginConfig(join(root.path, 'proxy'), { HTTPS_PROXY: 'http://proxy:3128' })).storeFor('rest:https://h/vol')).toBeUndefined();
  });

  describe('a REST server', () => {
    let server: Server;
    let answer: (req: IncomingMessage, res: ServerResponse) => void;
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];

    beforeAll(async () => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
          answer(req, res);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => (seen.length = 0));

    const url = () => `rest:http://u:p%40ss@127.0.0.1:${(server.address() as AddressInfo).port}/vol`;

    it('lists, reads, stores and removes key files with restic\'s REST requests, credentials as basic auth', async () => {
      answer = (req, res) => {
        if (req.method === 'GET' && req.url === '/vol/keys/') res.end(JSON.stringify([{ name: id(1), size: 3 }, { name: 'odd', size: 1 }]));
        else if (req.method === 'GET') res.end('key');
        else res.end();
      };
      const store = adapter.storeFor(url())!;
      expect(await store.list()).toEqual([id(1)]);
      expect((await store.read(id(1))).toString()).toBe('key');
      await store.write(id(2), Buffer.from('new key'));
      await store.remove(id(1));
      expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['GET /vol/keys/', `GET /vol/keys/${id(1)}`, `POST /vol/keys/${id(2)}`, `DELETE /vol/keys/${id(1)}`]);
      expect(seen[2].body).toBe('new key');
      expect(seen.every((r) => r.auth === `Basic ${Buffer.from('u:p@ss').toString('base64')}`)).toBe(true);
    });

    it('says a key that is gone is gone (ENOENT), takes a removal of one as done, and fails on a refusal', async () => {
      answer = (req, res) => {
        res.statusCode = req.method === 'POST' ? 403 : 404;
        res.end();
      };
      const store = adapter.storeFor(url())!;
      await expect(store.read(id(1))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(store.remove(id(1))).resolves.toBeUndefined();
      await expect(store.write(id(1), Buffer.from('x'))).rejects.toThrow(/HTTP 403/);
      await expect(store.list()).rejects.toThrow(/HTTP 404/);
    });
  });
});
