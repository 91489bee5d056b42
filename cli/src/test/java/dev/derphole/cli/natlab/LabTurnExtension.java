package dev.derphole.cli.natlab;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Gives every test class of this package the lab turn ({@link LabTurn}) for the whole class: one
 * wait before its first test, outside the tests' own timeouts, and no turn passed back and forth
 * between two lab classes test by test. Failsafe registers it for every class
 * (junit.jupiter.extensions.autodetection, cli/pom.xml); classes of other packages pass through.
 * Every class also takes its {@link AloneTurn}: shared, or the machine to itself.
 */
public final class LabTurnExtension implements BeforeAllCallback, AfterAllCallback {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LabTurnExtension.class);

  private static boolean labClass(ExtensionContext context) {
    return context.getTestClass().map(c -> c.getPackageName().equals(LabTurnExtension.class.getPackageName()))
        .orElse(false);
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    if (context.getTestClass().isPresent() && context.getStore(NS).get("alone") == null) {
      AloneTurn.take(context.getRequiredTestClass());
      context.getStore(NS).put("alone", Boolean.TRUE);
    }
    if (labClass(context)) {
      LabTurn.take();
      context.getStore(NS).put("turn", Boolean.TRUE);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (context.getStore(NS).remove("turn") != null) {
      LabTurn.give();
    }
    if (context.getStore(NS).remove("alone") != null) {
      AloneTurn.give();
    }
  }
}
