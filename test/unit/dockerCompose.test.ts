import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/**
 * docker/compose.yml as far as it can be checked without a Docker engine (none runs here): it
 * parses as YAML, its references resolve (volumes, the Dockerfile, interpolations), no two
 * services publish the same host port, and the recipes issue 13 asks for are there.
 */
interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
}
const ROOT = join(__dirname, '../..');
const text = readFileSync(join(ROOT, 'docker/compose.yml'), 'utf8');
const compose = parse(text) as { services: Record<string, Service>; volumes: Record<string, unknown> };

describe('docker/compose.yml', () => {
  it('declares every named volume it mounts and builds from the Dockerfile that exists', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect([name, svc.image ?? svc.build]).not.toEqual([name, undefined]);
      if (svc.build)
        expect(readFileSync(join(ROOT, 'docker', svc.build.context, svc.build.dockerfile), 'utf8')).toContain('FROM ');
      for (const v of svc.volumes ?? []) {
        const source = v.split(':')[0] as string;
        if (!/^[.$/~]/.test(source)) expect([name, source, source in compose.volumes]).toEqual([name, source, true]);
      }
    }
  });

  it('uses only well-formed interpolations and publishes each host port once', () => {
    for (const m of text.matchAll(/\$\{([^}]*)\}/g)) expect(m[1]).toMatch(/^[A-Z_][A-Z0-9_]*(:?[-?][^}]*)?$/);
    const ports = Object.values(compose.services).flatMap((s) =>
      (s.ports ?? []).map((p) => p.split(':').slice(0, 2).join(':')),
    );
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('has a daemon on the desktop data file beside the AMQP one, without a passphrase by default', () => {
    expect(compose.services.daemon?.environment?.FK_BACKEND).toMatch(/^amqp:\/\//);
    const file = compose.services['daemon-file'];
    expect(file?.profiles).toEqual(['file']);
    expect(file?.environment?.FK_BACKEND).toBe('/data/flowkeeper-data.txt');
    expect(file?.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    // a plaintext desktop file with a passphrase is refused: the default must be empty
    expect(file?.environment?.FK_PASSPHRASE).toMatch(/^\$\{[A-Z_]+:-\}$/);
  });

  it('has a mirror of the desktop file into the RabbitMQ history the AMQP daemon follows', () => {
    const mirror = compose.services.mirror as Service & { command?: string[] };
    expect(mirror.profiles).toEqual(['mirror']);
    expect(mirror.command?.slice(0, 5)).toEqual([
      'mirror',
      '--from',
      '/data/flowkeeper-data.txt',
      '--to',
      'amqp://fk@rabbitmq:5672/',
    ]);
    expect(mirror.volumes?.some((v) => v.endsWith(':/data:ro'))).toBe(true);
    expect(mirror.environment?.FK_USER).toBe(compose.services.daemon?.environment?.FK_USER);
  });

  it('has Prosody log to stdout, which the shared configuration supports', () => {
    expect(compose.services.prosody?.environment?.FK_PROSODY_LOG).toBe('stdout');
    const cfg = readFileSync(join(ROOT, 'docker/prosody/prosody.cfg.lua'), 'utf8');
    expect(cfg).toMatch(/ENV_FK_PROSODY_LOG == "stdout"[\s\S]*to = "stdout"/);
  });
});
