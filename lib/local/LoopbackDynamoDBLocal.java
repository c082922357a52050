import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts DynamoDB Local bound to 127.0.0.1 only. DynamoDB Local has no bind-address option and
 * listens on every interface, so this launcher builds the server from the usual command line and
 * pins its Jetty connectors to loopback before starting it. With -Dtollgate.exitWithParent=true it exits
 * when its stdin ends, so it never outlives the process that started it. Run as a single-file source program:
 * java -cp DynamoDBLocal.jar LoopbackDynamoDBLocal.java -port N -dbPath DIR -disableTelemetry
 */
public class LoopbackDynamoDBLocal {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      ((ServerConnector) connector).setHost("127.0.0.1");
    }
    // The parent holds stdin open and never writes to it, so its end means the parent is gone, however it
    // ended: a SIGKILL runs none of its cleanup, and this process would stay, holding the port and the
    // database file. Only when asked: run by hand, stdin may be /dev/null from the start.
    if (Boolean.getBoolean("tollgate.exitWithParent")) {
      Thread orphaned = new Thread(() -> {
        try {
          while (System.in.read() != -1) {}
        } catch (java.io.IOException gone) {
          // a broken stdin is an ended one
        }
        System.exit(0);
      });
      orphaned.setDaemon(true);
      orphaned.start();
    }
    proxy.start();
    System.out.println("DynamoDB Local listening on 127.0.0.1");
    proxy.join();
  }
}
