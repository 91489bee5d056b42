/** Sessions: tokens, the sealed claim and decision, and the products built on a QUIC connection. */
package dev.derphole.session;
