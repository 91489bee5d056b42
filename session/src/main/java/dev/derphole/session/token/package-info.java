/**
 * Session tokens: the bearer capability an issuing command prints and a claiming command reads.
 *
 * <p>{@link dev.derphole.session.token.Token} holds the byte layout; docs/protocol.md is the
 * specification. {@link dev.derphole.session.token.TokenText} is the checksummed base64url frame
 * that derptun's tokens print in too. Decoding errors, derphole's and derptun's, are {@link
 * dev.derphole.session.token.TokenException}s whose message is the one line shown to the user.
 */
package dev.derphole.session.token;
