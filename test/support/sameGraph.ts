/**
 * Independent of the codec: walks both object graphs side by side (prototypes, own keys, Map and
 * Set contents, numbers with Object.is), requiring one object of one graph to always pair with the
 * same object of the other. Returns 'same' or where they differ.
 */
export function sameGraph(a: unknown, b: unknown): string {
  const paired = new Map<object, object>();
  const todo: Array<[unknown, unknown, string]> = [[a, b, 'state']];
  while (todo.length > 0) {
    const [x, y, path] = todo.pop() as [unknown, unknown, string];
    if (x === null || typeof x !== 'object' || y === null || typeof y !== 'object') {
      if (!Object.is(x, y)) return `${path}: ${String(x)} vs ${String(y)}`;
      continue;
    }
    const seen = paired.get(x);
    if (seen !== undefined) {
      if (seen !== y) return `${path}: identity differs`;
      continue;
    }
    paired.set(x, y);
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(y)) return `${path}: class differs`;
    if (x instanceof Map && y instanceof Map) {
      if (x.size !== y.size) return `${path}: map size`;
      const ys = [...y];
      [...x].forEach(([k, v], i) =>
        todo.push([k, ys[i]?.[0], `${path} key ${i}`], [v, ys[i]?.[1], `${path}.get(${String(k)})`]),
      );
    } else if (x instanceof Set && y instanceof Set) {
      if (x.size !== y.size) return `${path}: set size`;
      const ys = [...y];
      [...x].forEach((v, i) => todo.push([v, ys[i], `${path} item ${i}`]));
    } else {
      const kx = Object.keys(x);
      const ky = Object.keys(y);
      if (kx.join() !== ky.join()) return `${path}: keys ${kx.join()} vs ${ky.join()}`;
      for (const k of kx)
        todo.push([(x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${path}.${k}`]);
    }
  }
  return 'same';
}
