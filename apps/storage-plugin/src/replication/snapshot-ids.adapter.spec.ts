import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pluginConfig, pluginRoot } from '../../../../test/support/storage-plugin';
import { PluginConfig } from '../config/plugin-config';
import { SnapshotIdsAdapter } from './snapshot-ids.adapter';

const id = (n: number) => n.toString(16).padStart(64, '0');

describe('SnapshotIdsAdapter', () => {
  const root = pluginRoot('snapshot-ids');
  let config: PluginConfig;
  let cases = 0;

  beforeEach(() => {
    config = pluginConfig(join(root.path, `case-${++cases}`));
  });
  afterAll(() => root.remove());

  describe('a local repository', () => {
    function repository(files: string[], withConfig = true): string {
      const repo = join(root.path, `repo-${cases}`);
      mkdirSync(join(repo, 'snapshots'), { recursive: true });
      if (withConfig) writeFileSync(join(repo, 'config'), 'x');
      for (const name of files) writeFileSync(join(repo, 'snapshots', name), 'x');
      return repo;
    }

    it('reads the ids in snapshots/, leaving out names that are no id (a file restic still writes)', async () => {
      const repo = repository([id(1), id(2), `${id(3)}-tmp-1234`, 'README']);
      const ids = new SnapshotIdsAdapter(config);
      await expect(ids.list(repo)).resolves.toEqual(new Set([id(1), id(2)]));
      await expect(ids.list(`local:${repo}`)).resolves.toEqual(new Set([id(1), id(2)]));
    });

    it('says missing where there is no repository (no config), and cannot tell for a config without snapshots/', async () => {
      const ids = new SnapshotIdsAdapter(config);
      await expect(ids.list(join(root.path, 'nothing-here'))).resolves.toBe('missing');
      const odd = join(root.path, `odd-${cases}`);
      mkdirSync(odd);
      writeFileSync(join(odd, 'config'), 'x');
      await expect(ids.list(odd)).resolves.toBeUndefined();
    });
  });

  describe('a REST server', () => {
    let server: Server;
    let answer: (req: IncomingMessage, res: ServerResponse) => void;
    const seen: IncomingMessage[] = [];

    beforeAll(async () => {
      server = createServer((req, res) => {
        seen.push(req);
        answer(req, res);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => (seen.length = 0));

    const url = (path = 'vol1', auth = '') => `rest:http://${auth}127.0.0.1:${(server.address() as AddressInfo).port}/${path}`;
    const json = (body: unknown, status = 200) => (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };

    it("reads GET <repo>/snapshots/ (restic's REST protocol v2, or v1's plain names), with the URL's credentials", async () => {
      answer = json([{ name: id(1), size: 300 }, { name: id(2), size: 310 }]);
      const ids = new SnapshotIdsAdapter(config);
      await expect(ids.list(url('vol1', 'user:s%40cret@'))).resolves.toEqual(new Set([id(1), id(2)]));
      expect(seen[0].url).toBe('/vol1/snapshots/');
      expect(seen[0].headers.accept).toBe('application/vnd.x.restic.rest.v2');
      expect(seen[0].headers.authorization).toBe(`Basic ${Buffer.from('user:s@cret').toString('base64')}`);
      answer = json([id(3)]);
      await expect(ids.list(url())).resolves.toEqual(new Set([id(3)]));
      expect(seen[1].headers.authorization).toBeUndefined();
    });

    it('cannot tell (restic lists) on any other answer, a malformed one, or settings only restic would honour', async () => {
      const ids = new SnapshotIdsAdapter(config);
      answer = json({ error: 'no' }, 404);
      await expect(ids.list(url())).resolves.toBeUndefined();
      answer = json({ not: 'a list' });
      await expect(ids.list(url())).resolves.toBeUndefined();
      answer = json([{ size: 3 }]);
      await expect(ids.list(url())).resolves.toBeUndefined();
      answer = (_req, res) => res.end('not json');
      await expect(ids.list(url())).resolves.toBeUndefined();
      answer = json([id(1)]);
      const proxied = new SnapshotIdsAdapter({ ...config, resticEnv: { ...config.resticEnv, HTTPS_PROXY: 'http://proxy:3128' } });
      await expect(proxied.list(url())).resolves.toBeUndefined();
      const ownCa = new SnapshotIdsAdapter({ ...config, resticEnv: { ...config.resticEnv, RESTIC_CACERT: '/etc/ca.pem' } });
      await expect(ownCa.list(url())).resolves.toBeUndefined();
      expect(seen).toHaveLength(4);
    });

    it('cannot tell for a server that cannot be reached, nor for other backends', async () => {
      const ids = new SnapshotIdsAdapter(config);
      await expect(ids.list('rest:http://127.0.0.1:1/vol1')).resolves.toBeUndefined();
      await expect(ids.list('s3:https://s3.example.net/bucket/vol1')).resolves.toBeUndefined();
      await expect(ids.list('sftp:user@host:/srv/vol1')).resolves.toBeUndefined();
    });
  });
});
