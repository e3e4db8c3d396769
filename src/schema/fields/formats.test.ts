import { describe, expect, it } from 'vitest'
import { isEmail, isURL, MAX_EMAIL_LENGTH, parseGoURL } from './formats.js'

// Expected outcomes are govalidator's (IsEmail / IsURL), which PocketBase's email and url fields use.
describe('isEmail', () => {
  const cases: [string, boolean][] = [
    ['', false],
    ['foo@bar.com', true],
    ['x@x.x', true],
    ['foo@bar.com.au', true],
    ['foo+bar@bar.com', true],
    ['foo@bar.coffee', true],
    ['foo@bar.coffee..coffee', false],
    ['foo@bar.bar.coffee', true],
    ['foo@bar.中文网', true],
    ['invalidemail@', false],
    ['invalid.com', false],
    ['@invalid.com', false],
    ['test|123@m端ller.com', true],
    ['hans@m端ller.com', true],
    ['hans.m端ller@test.com', true],
    ['NathAn.daVIeS@DomaIn.cOM', true],
    ['NATHAN.DAVIES@DOMAIN.CO.UK', true],
    ['a..b@x.com', false],
    ['.a@x.com', false],
    ['a.@x.com', false],
    ['a@b', false],
    ['a@b.c1', false],
    ['a@b..c', false],
    ['a@b..c.d', true], // labels before the last may hold dots
    ['a@b.c.', true],
    ['a@-b.com', false],
    ['a@b-.com', false],
    ['a b@x.com', false],
    ['"a b"@x.com', true],
    ['"a@b"@x.com', true],
    ['a@b@x.com', false],
    ['user@[127.0.0.1]', false],
    ['a@x.com\n', false],
  ]
  it.each(cases)('%j -> %s', (s, want) => expect(isEmail(s)).toBe(want))

  it(`refuses addresses over ${MAX_EMAIL_LENGTH} characters without matching`, () => {
    const local = 'a'.repeat(MAX_EMAIL_LENGTH - '@x.com'.length)
    expect(isEmail(`${local}@x.com`)).toBe(true)
    expect(isEmail(`${local}a@x.com`)).toBe(false)
  })

  it('is linear on hostile input', () => {
    const start = performance.now()
    expect(isEmail(`a@${'a.'.repeat(1000)}!`)).toBe(false)
    expect(performance.now() - start).toBeLessThan(500)
  })
})

describe('isURL', () => {
  const cases: [string, boolean][] = [
    ['', false],
    ['http://foo.bar#com', true],
    ['http://foobar.com', true],
    ['https://foobar.com', true],
    ['foobar.com', true],
    ['http://foobar.coffee/', true],
    ['http://foobar.中文网/', true],
    ['http://foobar.ORG', true],
    ['http://foobar.org:8080/', true],
    ['ftp://foobar.ru/', true],
    ['ftp.foo.bar', true],
    ['http://user:pass@www.foobar.com/path/file', true],
    ['http://127.0.0.1/', true],
    ['http://duckduckgo.com/?q=%2F', true],
    ['http://localhost:3000/', true],
    ['http://foobar.com/?foo=bar#baz=qux', true],
    ['http://foobar.com?foo=bar', true],
    ['http://www.xn--froschgrn-x9a.net/', true],
    ['http://foobar.com/a-', true],
    ['http://foobar.c_o_m', false],
    ['http://_foobar.com', false],
    ['http://foo_bar.com', true],
    ['xyz://foobar.com', false],
    ['.com', false],
    ['rtmp://foobar.com', false],
    ['http://www.-foobar.com/', false],
    ['http://www.foo---bar.com/', false],
    ['http://r6---snnvoxuioq6.googlevideo.com', true],
    ['mailto:someone@example.com', true],
    ['irc://irc.server.org/channel', false],
    ['irc://#channel@network', true],
    ['/abs/test/dir', false],
    ['./rel/test/dir', false],
    ['http://foo^bar.org', false],
    ['http://foo&bar.org', false],
    ['http://foo bar.org', false],
    ['foo', false],
    ['http://.foo.com', false],
    ['http://,foo.com', false],
    ['http://myservice.:9093/', true],
    ['aio1_alertmanager_container-63376c45:9093', true],
    ['https://zh.wikipedia.org/wiki/Wikipedia:%E9%A6%96%E9%A1%B5', true],
    ['google', false],
    ['http://cant-end-with-hyphen-.example.com', false],
    ['http://-cant-start-with-hyphen.example.com', false],
    ['http://[::1]:9093', true],
    ['http://[::1]:909388', false],
    ['1200::AB00:1234::2552:7777:1313', false],
    ['http://[2001:db8:a0b:12f0::1]/index.html', true],
    ['http://user:pass@[::1]:9093/a/b/c/?a=v#abc', true],
    ['http://_cant_start_with_underescore', false],
    ['http://cant_end_with_underescore_', false],
    ['foo_bar-fizz-buzz:1313', true],
    ['foo_bar-fizz-buzz:13:13', false],
    ['foo_bar-fizz-buzz://1313', false],
    ['http://a.com/%zz', false], // Go's url.Parse refuses the escape
    ['http://us{er@a.com', false], // and the userinfo
    ['http://a.com/\u0001', false], // and control characters
    ['abc', false], // 3 bytes
    [`http://a.com/${'x'.repeat(2070)}`, false], // 2083 runes
  ]
  it.each(cases)('%j -> %s', (s, want) => expect(isURL(s)).toBe(want))

  it('is linear on hostile input', () => {
    const start = performance.now()
    expect(isURL(`http://${'a'.repeat(2000)}!`)).toBe(false)
    expect(isURL(`http://${'a-'.repeat(1000)}!`)).toBe(false)
    expect(performance.now() - start).toBeLessThan(1000)
  })
})

describe('parseGoURL (hosts for the domain lists)', () => {
  const cases: [string, string | undefined][] = [
    ['https://example.com/x', 'example.com'],
    ['https://example.com:8080/x', 'example.com:8080'],
    ['https://user:pw@example.com', 'example.com'],
    ['HTTPS://Example.COM', 'Example.COM'],
    ['example.com/x', ''],
    ['mailto:a@b.com', ''],
    ['//example.com/x', 'example.com'],
    ['http://[::1]:80/', '[::1]:80'],
    ['http://a b.com', undefined],
    ['http://a.com:8o', undefined],
    ['http://%41.com', undefined],
    ['http://%c3%a9.com', '%c3%a9.com'],
    [':foo', undefined],
    ['a:b/c', ''],
    ['1a:b', undefined],
  ]
  it.each(cases)('%j -> host %j', (s, host) => expect(parseGoURL(s)?.host).toBe(host))
})
