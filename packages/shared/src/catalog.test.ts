import { describe, expect, it } from 'vitest';
import { catalogProductSchema } from './catalog.js';

const withImage = (image_url: unknown) =>
  catalogProductSchema.safeParse({ id: 'p1', name: 'Dog food', image_url });

describe('a catalog product', () => {
  it('takes a picture as an http(s) URL or as a path on this server', () => {
    expect(withImage('https://shop.example/dog.png').data?.image_url).toBe('https://shop.example/dog.png');
    expect(withImage('/static/products/dog-food-salmon.svg').data?.image_url).toBe(
      '/static/products/dog-food-salmon.svg',
    );
    expect(withImage(null).data?.image_url).toBeNull();
  });

  it('refuses a picture on another scheme, a protocol-relative URL or a relative path', () => {
    for (const url of [
      'javascript:alert(1)',
      'data:image/png;base64,AA',
      '//evil.example/x.png',
      '/\\evil',
      'img/x.png',
    ]) {
      expect(withImage(url).success, url).toBe(false);
    }
  });
});
