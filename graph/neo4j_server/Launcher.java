/*
 * Runs the Neo4j Community engine in its own JVM with Bolt on loopback.
 *
 * Started by `hub neo4j start` as `java -cp <resolved jars> Launcher.java ...`
 * (single-file source launch, so there is no build step). Arguments are
 * `key=value` pairs; the password arrives in the HUB_NEO4J_LAUNCH_PASSWORD
 * environment variable so that it never shows in a process listing. The
 * launcher prints exactly one "READY <bolt uri>" line once the default
 * database is available, and shuts the engine down cleanly on SIGTERM.
 */

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;

public final class Launcher {
    private static final String PASSWORD_ENV = "HUB_NEO4J_LAUNCH_PASSWORD";

    private Launcher() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> options = parse(args);
        Path home = Path.of(require(options, "home")).toAbsolutePath();
        String port = require(options, "port");
        String password = System.getenv(PASSWORD_ENV);
        if (password == null || password.length() < 8) {
            fail(PASSWORD_ENV + " must hold the database password (at least 8 characters)");
        }

        Map<String, String> config = new HashMap<>();
        config.put("server.bolt.enabled", "true");
        config.put("server.bolt.listen_address", "127.0.0.1:" + port);
        config.put("server.bolt.advertised_address", "127.0.0.1:" + port);
        config.put("server.http.enabled", "false");
        config.put("server.https.enabled", "false");
        config.put("dbms.security.auth_enabled", "true");
        config.put("server.memory.pagecache.size", options.getOrDefault("pagecache", "512m"));
        config.put("db.memory.transaction.total.max", options.getOrDefault("tx_memory", "1g"));
        config.put("db.tx_log.preallocate", "false");
        config.put("db.tx_log.rotation.retention_policy", options.getOrDefault("tx_log_retention", "keep_none"));
        config.put("dbms.usage_report.enabled", "false");

        DatabaseManagementService dbms =
                new DatabaseManagementServiceBuilder(home).loadPropertiesFromFile(writeConfig(home, config)).build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            dbms.shutdown();
            stopped.countDown();
        }, "hub-neo4j-shutdown"));

        GraphDatabaseService database = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!database.isAvailable(120_000)) {
            fail("the default database did not become available within 120 s; see " + home.resolve("logs/debug.log"));
        }
        setPassword(dbms, password);
        System.out.println("READY bolt://127.0.0.1:" + port);
        System.out.flush();
        stopped.await();
    }

    /** The builder takes raw settings only from a file; writing one also leaves a record of what ran. */
    private static Path writeConfig(Path home, Map<String, String> config) throws IOException {
        Path file = home.resolve("conf").resolve("neo4j.conf");
        Files.createDirectories(file.getParent());
        StringBuilder text = new StringBuilder("# written by the hub's Launcher on every start; edits are overwritten\n");
        new TreeMap<>(config).forEach((key, value) -> text.append(key).append('=').append(value).append('\n'));
        Files.writeString(file, text.toString(), StandardCharsets.UTF_8);
        return file;
    }

    /** The first start replaces the factory password; later starts re-apply the stored one. */
    private static void setPassword(DatabaseManagementService dbms, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
        } catch (RuntimeException error) {
            String message = String.valueOf(error.getMessage());
            if (!message.contains("cannot be the same")) {
                throw error;
            }
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                fail("argument '" + arg + "' is not key=value");
            }
            options.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        return options;
    }

    private static String require(Map<String, String> options, String key) {
        String value = options.get(key);
        if (value == null || value.isEmpty()) {
            fail("missing argument " + key + "=...");
        }
        return value;
    }

    private static void fail(String message) {
        System.err.println("LAUNCH-FAILED " + message);
        System.exit(2);
    }
}
