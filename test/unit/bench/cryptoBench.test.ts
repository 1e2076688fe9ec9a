import { runCryptoBench } from '../../../bench/cryptoBench';

describe('runCryptoBench', () => {
  it('reports throughput, size and key derivation time for both formats', async () => {
    const results = await runCryptoBench(300);
    expect(results.map((r) => r.name).sort()).toEqual(
      [
        'crypto.fernet.decrypt',
        'crypto.fernet.encrypt',
        'crypto.fernet.kdf_pbkdf2',
        'crypto.fernet.size_ratio',
        'crypto.sodium.decrypt',
        'crypto.sodium.encrypt',
        'crypto.sodium.kdf_argon2id',
        'crypto.sodium.size_ratio',
      ].sort(),
    );
    for (const r of results) expect(r.value).toBeGreaterThan(0);
  });
});
