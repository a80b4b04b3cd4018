package conformance;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fnproject.fn.api.Headers;
import com.fnproject.fn.api.InputEvent;
import com.fnproject.fn.api.InvocationContext;
import com.fnproject.fn.api.OutputEvent;
import com.fnproject.fn.api.httpgateway.HTTPGatewayContext;

/**
 * The probe function of the conformance harness for fdk-java
 * (protocol-spec/probe.md): each call's X-Probe header (a JSON object) says
 * what to do, and the probe does it through fdk-java's public API and
 * nothing else. Run as {@code com.fnproject.fn.runtime.EntryPoint
 * conformance.Probe::handleRequest}.
 *
 * <p>A test fixture, not an example of style: it must not work around the
 * FDK, so whatever fdk-java makes of an exception, a missed deadline or an
 * odd status is exactly what the harness gets to see.
 */
public class Probe {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The handler. fdk-java binds the raw event and the invocation and
     * gateway contexts by parameter type; an {@link OutputEvent} return gives
     * full control of the body and its content type.
     */
    public OutputEvent handleRequest(InputEvent in, InvocationContext ctx, HTTPGatewayContext http)
            throws Exception {
        // fdk-java makes a gateway context for every call; it is a gateway
        // call when the gateway context has the client's method.
        boolean gateway = !http.getMethod().isEmpty();
        Headers clientHeaders = gateway ? http.getHeaders() : in.getHeaders();

        JsonNode p;
        Optional<String> text = clientHeaders.get("X-Probe");
        if (text.isPresent()) {
            p = JSON.readTree(text.get());
        } else {
            p = JSON.createObjectNode().put("op", "echo");
        }

        String op = p.path("op").asText();
        switch (op) {
            case "echo":
                return OutputEvent.fromBytes(body(in), OutputEvent.Status.Success, "application/octet-stream");
            case "report":
                return report(in, ctx, http, gateway, clientHeaders, p.path("config"));
            case "respond":
                return respond(in, ctx, http, gateway, p);
            case "sleep":
                // Java has no event loop: a blocking sleep on the call's thread.
                Thread.sleep(p.path("ms").asLong());
                return OutputEvent.fromBytes(utf8("slept"), OutputEvent.Status.Success, "text/plain");
            case "error":
                // fdk-java documents a thrown exception as the way a function fails.
                throw new RuntimeException(p.path("message").asText());
            case "panic":
                // What no handler is expected to throw: an Error.
                throw new Error(p.path("message").asText());
            case "nothing":
                // Java's "no value".
                return null;
            case "emit": {
                byte[] out = new byte[p.path("bytes").asInt()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = (byte) (i % 251);
                }
                return OutputEvent.fromBytes(out, OutputEvent.Status.Success, "application/octet-stream");
            }
            case "stream":
                // fdk-java buffers every response in a ByteArrayOutputStream
                // (fdk-java#96): it cannot stream.
                return unsupported("stream");
            case "log":
                // fdk-java sends System.out to stderr itself.
                if (p.hasNonNull("stdout")) {
                    System.out.println(p.get("stdout").asText());
                    System.out.flush();
                }
                if (p.hasNonNull("stderr")) {
                    System.err.println(p.get("stderr").asText());
                    System.err.flush();
                }
                return OutputEvent.fromBytes(utf8("logged"), OutputEvent.Status.Success, "text/plain");
            case "exit":
                // At once, mid-call: no response, no shutdown hooks.
                Runtime.getRuntime().halt(p.path("code").asInt());
                return null;
            default:
                throw new IllegalArgumentException("unknown op " + op);
        }
    }

    /**
     * The user-level response: fdk-java's only status API is the gateway
     * context's (it sets Fn-Http-Status for any call). User headers go
     * through the gateway context for gateway calls (it adds Fn-Http-H-) and
     * through the invocation context for invoke calls.
     */
    private OutputEvent respond(InputEvent in, InvocationContext ctx, HTTPGatewayContext http,
                                boolean gateway, JsonNode p) {
        http.setStatusCode(p.path("status").asInt());
        for (JsonNode h : p.path("headers")) {
            String name = h.path(0).asText();
            String value = h.path(1).asText();
            if (gateway) {
                http.addResponseHeader(name, value);
            } else {
                ctx.addResponseHeader(name, value);
            }
        }
        String contentType = p.hasNonNull("content_type") ? p.get("content_type").asText() : null;
        if (contentType != null) {
            if (gateway) {
                http.setResponseHeader("Content-Type", contentType);
            } else {
                ctx.setResponseContentType(contentType);
            }
        }
        return OutputEvent.fromBytes(utf8(p.path("body").asText()), OutputEvent.Status.Success, contentType);
    }

    private OutputEvent report(InputEvent in, InvocationContext ctx, HTTPGatewayContext http,
                               boolean gateway, Headers clientHeaders, JsonNode keys) throws Exception {
        byte[] body = body(in);
        ObjectNode r = JSON.createObjectNode();
        r.put("call_id", in.getCallID().isEmpty() ? null : in.getCallID());
        Instant deadline = in.getDeadline();
        r.put("deadline", deadline == null ? null : deadline.truncatedTo(ChronoUnit.SECONDS).toString());
        r.put("gateway", gateway);
        r.put("method", gateway ? http.getMethod() : null);
        r.put("url", gateway ? http.getRequestURL() : null);
        r.put("content_type", in.getHeaders().get("Content-Type").orElse(null));
        // Headers is a hash map: names sorted, values in the FDK's order.
        ArrayNode headers = r.putArray("headers");
        List<String> names = new ArrayList<>(clientHeaders.keys());
        names.sort(null);
        for (String name : names) {
            for (String value : clientHeaders.getAllValues(name)) {
                headers.addArray().add(name.toLowerCase()).add(value);
            }
        }
        ObjectNode config = r.putObject("config");
        for (JsonNode key : keys) {
            String k = key.asText();
            config.put(k, ctx.getRuntimeContext().getConfigurationByKey(k).orElse(null));
        }
        r.put("body_len", body.length);
        r.put("body_sha256", hex(MessageDigest.getInstance("SHA-256").digest(body)));
        return OutputEvent.fromBytes(JSON.writeValueAsBytes(r), OutputEvent.Status.Success, "application/json");
    }

    private static OutputEvent unsupported(String op) throws IOException {
        ObjectNode r = JSON.createObjectNode().put("probe_unsupported", op);
        return OutputEvent.fromBytes(JSON.writeValueAsBytes(r), OutputEvent.Status.Success, "application/json");
    }

    private static byte[] body(InputEvent in) {
        return in.consumeBody(Probe::readAll);
    }

    private static byte[] readAll(InputStream is) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[65536];
            int n;
            while ((n = is.read(buf)) != -1) {
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String hex(byte[] bytes) {
        StringBuilder sb = new StringBuilder();
        for (byte b : bytes) {
            sb.append(String.format("%02x", b));
        }
        return sb.toString();
    }
}
