package dev.derphole.transport.portmap;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * The little XML UPnP needs, read with the JDK's DOM parser. What a gateway sends is untrusted:
 * a document with a DOCTYPE is refused outright, so no entity is ever expanded and nothing
 * external (DTD, entity, XInclude, schema) is ever fetched.
 */
final class UpnpXml {
  static final String SOAP_ENVELOPE_NS = "http://schemas.xmlsoap.org/soap/envelope/";
  static final String SOAP_ENCODING = "http://schemas.xmlsoap.org/soap/encoding/";

  private static final ErrorHandler THROW = new ErrorHandler() {
    @Override
    public void warning(SAXParseException e) {}

    @Override
    public void error(SAXParseException e) throws SAXException {
      throw e;
    }

    @Override
    public void fatalError(SAXParseException e) throws SAXException {
      throw e;
    }
  };

  private UpnpXml() {}

  /** Empty when the bytes are not well-formed XML or carry a DOCTYPE. */
  static Optional<Document> parse(byte[] xml) {
    DocumentBuilder builder;
    try {
      builder = hardenedFactory().newDocumentBuilder();
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser refuses its own configuration", e);
    }
    try {
      builder.setErrorHandler(THROW); // the default handler prints to stderr
      builder.setEntityResolver((publicId, systemId) -> {
        throw new SAXException("external entity refused: " + systemId);
      });
      return Optional.of(builder.parse(new ByteArrayInputStream(xml)));
    } catch (SAXException | IOException malformed) {
      return Optional.empty();
    }
  }

  private static DocumentBuilderFactory hardenedFactory() {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    try {
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      factory.setFeature("http://xml.org/sax/features/external-general-entities", false);
      factory.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
      factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser lacks a feature it has always had", e);
    }
    factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
    factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
    factory.setNamespaceAware(true);
    factory.setXIncludeAware(false);
    factory.setExpandEntityReferences(false);
    return factory;
  }

  /** Every element below {@code root} with this local name, in document order, any namespace. */
  static List<Element> elements(Node root, String localName) {
    NodeList found = root instanceof Document document
        ? document.getElementsByTagNameNS("*", localName)
        : ((Element) root).getElementsByTagNameNS("*", localName);
    List<Element> out = new ArrayList<>(found.getLength());
    for (int i = 0; i < found.getLength(); i++) {
      out.add((Element) found.item(i));
    }
    return out;
  }

  /** The element children of {@code parent}, in order. */
  static List<Element> children(Element parent) {
    List<Element> out = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element element) {
        out.add(element);
      }
    }
    return out;
  }

  /** The trimmed text of the first direct child with this local name. */
  static Optional<String> childText(Element parent, String localName) {
    return children(parent).stream()
        .filter(e -> localName.equals(e.getLocalName()))
        .findFirst()
        .map(e -> e.getTextContent().trim());
  }

  /** The first element child of the SOAP Body. */
  static Optional<Element> soapBodyContent(Document document) {
    Element envelope = document.getDocumentElement();
    if (!"Envelope".equals(envelope.getLocalName()) || !SOAP_ENVELOPE_NS.equals(envelope.getNamespaceURI())) {
      return Optional.empty();
    }
    return children(envelope).stream()
        .filter(e -> "Body".equals(e.getLocalName()) && SOAP_ENVELOPE_NS.equals(e.getNamespaceURI()))
        .findFirst()
        .flatMap(body -> children(body).stream().findFirst());
  }

  /** A SOAP 1.1 envelope around {@code bodyContent}, which must already be escaped XML. */
  static byte[] soapEnvelope(String bodyContent) {
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>"
        + "<s:Envelope xmlns:s=\"" + SOAP_ENVELOPE_NS + "\" s:encodingStyle=\"" + SOAP_ENCODING + "\">"
        + "<s:Body>" + bodyContent + "</s:Body></s:Envelope>").getBytes(StandardCharsets.UTF_8);
  }

  /** {@code text} safe inside an element or an attribute value. */
  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char c : text.toCharArray()) {
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&apos;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }
}
