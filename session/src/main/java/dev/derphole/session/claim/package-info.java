/**
 * The claim: how a token's bearer takes the session, over DERP, with every message sealed.
 *
 * <p>{@link dev.derphole.session.claim.SessionKeys} derives the keys from the token, {@link
 * dev.derphole.session.claim.Envelope} seals messages as DERP payloads, {@link
 * dev.derphole.session.claim.Claimant} makes a claim and {@link
 * dev.derphole.session.claim.ClaimGate} answers it. docs/protocol.md is the specification.
 */
package dev.derphole.session.claim;
