/*
 * The Java side of the cross-language tests (test/bindings/java.test.ts builds gen/java with its
 * Makefile, compiles this file against the jar and Debian's protobuf-java, and runs it):
 *
 *   java Xlang decode FIXTURE   decode ts-encoded.json with gen/java, field by field
 *   java Xlang encode FIXTURE   encode the vectors of ts-encoded.json from their fields
 *   java Xlang names            the schema's event and verb strings and the CODEC_PROTO flag
 *   java Xlang runtime          where the protobuf runtime was loaded from
 *
 * Everything is printed as JSON for the TypeScript test to compare; this program asserts nothing
 * itself, so a mismatch shows up as a field-level diff in vitest. The JDK has no JSON library, so
 * a small reader and writer for the fixtures' JSON are at the end.
 */
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.rr.goridge.v1.FrameFlag;
import com.rr.tcp.v1.RequestContext;
import com.rr.tcp.v1.TcpEvent;
import com.rr.tcp.v1.TcpResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

public final class Xlang {
  private Xlang() {}

  public static void main(String[] args) throws Exception {
    Object result;
    String command = args.length > 0 ? args[0] : "";
    if (command.equals("decode") && args.length == 2) result = decode(load(args[1]));
    else if (command.equals("encode") && args.length == 2) result = encode(load(args[1]));
    else if (command.equals("names")) result = names();
    else if (command.equals("runtime")) result = runtime();
    else {
      System.err.println("usage: java Xlang decode|encode FIXTURE | names | runtime");
      System.exit(2);
      return;
    }
    PrintStream out = new PrintStream(System.out, false, "UTF-8");
    StringBuilder text = new StringBuilder();
    Json.write(result, text);
    out.println(text);
    out.flush();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> load(String path) throws IOException {
    return (Map<String, Object>) Json.parse(new String(Files.readAllBytes(Paths.get(path)), StandardCharsets.UTF_8));
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> fixture, String key) {
    return (List<Map<String, Object>>) fixture.get(key);
  }

  /** The generated class's builder for a message, by its full protobuf name. */
  static Message.Builder builderFor(String fullName) throws ReflectiveOperationException {
    String simple = fullName.substring(fullName.lastIndexOf('.') + 1);
    // Looked up in the schema's file descriptors; with java_multiple_files (buf's managed mode),
    // a message's class is its file's java_package and its own name.
    for (com.google.protobuf.Descriptors.FileDescriptor file : new com.google.protobuf.Descriptors.FileDescriptor[] {
      com.rr.tcp.v1.TcpProto.getDescriptor(), com.rr.tcp.v1.OptionsProto.getDescriptor(), com.rr.tcp.v1.ControlProto.getDescriptor(),
    }) {
      Descriptor d = file.findMessageTypeByName(simple);
      if (d != null && d.getFullName().equals(fullName)) {
        Class<?> cls = Class.forName(file.getOptions().getJavaPackage() + "." + d.getName());
        return (Message.Builder) cls.getMethod("newBuilder").invoke(null);
      }
    }
    throw new IllegalArgumentException("no generated message " + fullName);
  }

  static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) s.append(String.format("%02x", b & 0xff));
    return s.toString();
  }

  static byte[] unhex(String hex) {
    byte[] out = new byte[hex.length() / 2];
    for (int i = 0; i < out.length; i++) out[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    return out;
  }

  /** Every field of a message in the neutral form of test/bindings/vectors.ts. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> dump(Message message) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (FieldDescriptor field : message.getDescriptorForType().getFields()) {
      Object value = message.getField(field);
      if (field.isMapField()) {
        FieldDescriptor key = field.getMessageType().findFieldByName("key");
        FieldDescriptor val = field.getMessageType().findFieldByName("value");
        Map<String, Object> map = new LinkedHashMap<>();
        for (Message entry : (List<Message>) value) map.put(String.valueOf(entry.getField(key)), neutral(val, entry.getField(val)));
        out.put(field.getName(), map);
      } else if (field.isRepeated()) {
        List<Object> items = new ArrayList<>();
        for (Object item : (List<Object>) value) items.add(neutral(field, item));
        out.put(field.getName(), items);
      } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        out.put(field.getName(), message.hasField(field) ? dump((Message) value) : null);
      } else {
        out.put(field.getName(), neutral(field, value));
      }
    }
    return out;
  }

  static Object neutral(FieldDescriptor field, Object value) {
    switch (field.getType()) {
      case MESSAGE:
        return dump((Message) value);
      case ENUM:
        return (long) ((EnumValueDescriptor) value).getNumber();
      case BYTES:
        return hex(((ByteString) value).toByteArray());
      case UINT32:
      case FIXED32:
        return Integer.toUnsignedLong((Integer) value);
      case UINT64:
      case FIXED64:
        // Above 2^63 a Java long is negative; the vectors stay below 2^53.
        return new java.math.BigInteger(Long.toUnsignedString((Long) value));
      default:
        return value;
    }
  }

  /** The reverse of dump: sets every field of `builder` from its neutral form. */
  @SuppressWarnings("unchecked")
  static Message.Builder fill(Message.Builder builder, Map<String, Object> fields) {
    for (FieldDescriptor field : builder.getDescriptorForType().getFields()) {
      Object value = fields.get(field.getName());
      if (field.isMapField()) {
        FieldDescriptor key = field.getMessageType().findFieldByName("key");
        FieldDescriptor val = field.getMessageType().findFieldByName("value");
        for (Map.Entry<String, Object> e : new TreeMap<>((Map<String, Object>) value).entrySet()) {
          Message.Builder entry = builder.newBuilderForField(field);
          entry.setField(key, e.getKey());
          entry.setField(val, javaValue(entry, val, e.getValue()));
          builder.addRepeatedField(field, entry.build());
        }
      } else if (field.isRepeated()) {
        for (Object item : (List<Object>) value) builder.addRepeatedField(field, javaValue(builder, field, item));
      } else if (value != null || field.getJavaType() != FieldDescriptor.JavaType.MESSAGE) {
        // A message given as {} is present (a Duration of 0s is not "unset").
        builder.setField(field, javaValue(builder, field, value));
      }
    }
    return builder;
  }

  @SuppressWarnings("unchecked")
  static Object javaValue(Message.Builder parent, FieldDescriptor field, Object value) {
    switch (field.getJavaType()) {
      case MESSAGE:
        return fill(parent.newBuilderForField(field), (Map<String, Object>) value).build();
      case ENUM:
        return field.getEnumType().findValueByNumberCreatingIfUnknown(((Number) value).intValue());
      case BYTE_STRING:
        return ByteString.copyFrom(unhex((String) value));
      case INT:
        return (int) ((Number) value).longValue();
      case LONG:
        return ((Number) value).longValue();
      case FLOAT:
        return ((Number) value).floatValue();
      case DOUBLE:
        return ((Number) value).doubleValue();
      default:
        return value;
    }
  }

  /** The bytes with map entries in key order, as the TypeScript encoder writes the vectors. */
  static byte[] serialize(Message message) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    CodedOutputStream out = CodedOutputStream.newInstance(bytes);
    out.useDeterministicSerialization();
    message.writeTo(out);
    out.flush();
    return bytes.toByteArray();
  }

  static Map<String, Object> decode(Map<String, Object> fixture) throws Exception {
    List<Object> contexts = new ArrayList<>();
    for (Map<String, Object> vector : list(fixture, "contexts")) {
      RequestContext message = RequestContext.parseFrom(unhex((String) vector.get("proto_hex")));
      // Through the generated getters, as a worker author would read them.
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("remote_addr", message.getRemoteAddr());
      fields.put("server", message.getServer());
      fields.put("uuid", message.getUuid());
      fields.put("event", (long) message.getEventValue());
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("name", vector.get("name"));
      entry.put("proto_fields", fields);
      contexts.add(entry);
    }
    List<Object> messages = new ArrayList<>();
    for (Map<String, Object> vector : list(fixture, "messages")) {
      Message message = builderFor((String) vector.get("type")).mergeFrom(unhex((String) vector.get("proto_hex"))).build();
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("name", vector.get("name"));
      entry.put("type", vector.get("type"));
      entry.put("fields", dump(message));
      messages.add(entry);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("contexts", contexts);
    out.put("messages", messages);
    return out;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> encode(Map<String, Object> fixture) throws Exception {
    List<Object> contexts = new ArrayList<>();
    for (Map<String, Object> vector : list(fixture, "contexts")) {
      Map<String, Object> f = (Map<String, Object>) vector.get("fields");
      RequestContext message =
          RequestContext.newBuilder()
              .setRemoteAddr((String) f.get("remote_addr"))
              .setServer((String) f.get("server"))
              .setUuid((String) f.get("uuid"))
              // By number: "event number from a newer schema" has no constant in TcpEvent.
              .setEventValue(((Number) f.get("event")).intValue())
              .build();
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("name", vector.get("name"));
      entry.put("proto_hex", hex(message.toByteArray()));
      contexts.add(entry);
    }
    List<Object> messages = new ArrayList<>();
    for (Map<String, Object> vector : list(fixture, "messages")) {
      Message message = fill(builderFor((String) vector.get("type")), (Map<String, Object>) vector.get("fields")).build();
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("name", vector.get("name"));
      entry.put("type", vector.get("type"));
      entry.put("proto_hex", hex(serialize(message)));
      messages.add(entry);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put(
        "about",
        "Encoded by Java (gen/java via Debian's protobuf-java, test/bindings/java/Xlang.java) from the fields of ts-encoded.json, for TypeScript to decode field by field.");
    out.put("contexts", contexts);
    out.put("messages", messages);
    return out;
  }

  static Map<String, Object> names() {
    List<Object> events = new ArrayList<>();
    for (TcpEvent e : TcpEvent.values())
      if (e != TcpEvent.UNRECOGNIZED && e.getNumber() != 0) events.add(e.name().substring("TCP_EVENT_".length()));
    List<Object> verbs = new ArrayList<>();
    for (TcpResponse r : TcpResponse.values())
      if (r != TcpResponse.UNRECOGNIZED && r.getNumber() != 0) verbs.add(r.name().substring("TCP_RESPONSE_".length()));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("schema_events", events);
    out.put("schema_verbs", verbs);
    out.put("schema_codec_proto", (long) FrameFlag.FRAME_FLAG_CODEC_PROTO_VALUE);
    return out;
  }

  static Map<String, Object> runtime() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("protobuf_jar", Message.class.getProtectionDomain().getCodeSource().getLocation().getPath());
    out.put("java", System.getProperty("java.version"));
    return out;
  }

  /** Just enough JSON for the fixtures: objects keep their key order, integers are longs. */
  static final class Json {
    private final String s;
    private int i;

    private Json(String s) {
      this.s = s;
    }

    static Object parse(String text) {
      Json p = new Json(text);
      Object value = p.value();
      p.space();
      if (p.i != text.length()) throw p.error("trailing characters");
      return value;
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException("JSON: " + what + " at offset " + i);
    }

    private void space() {
      while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
    }

    private Object value() {
      space();
      if (i >= s.length()) throw error("unexpected end");
      char c = s.charAt(i);
      if (c == '{') {
        i++;
        Map<String, Object> map = new LinkedHashMap<>();
        space();
        if (s.charAt(i) == '}') {
          i++;
          return map;
        }
        while (true) {
          space();
          String key = string();
          space();
          if (s.charAt(i++) != ':') throw error("expected :");
          map.put(key, value());
          space();
          char next = s.charAt(i++);
          if (next == '}') return map;
          if (next != ',') throw error("expected , or }");
        }
      }
      if (c == '[') {
        i++;
        List<Object> items = new ArrayList<>();
        space();
        if (s.charAt(i) == ']') {
          i++;
          return items;
        }
        while (true) {
          items.add(value());
          space();
          char next = s.charAt(i++);
          if (next == ']') return items;
          if (next != ',') throw error("expected , or ]");
        }
      }
      if (c == '"') return string();
      for (String word : new String[] {"true", "false", "null"}) {
        if (s.startsWith(word, i)) {
          i += word.length();
          return word.equals("null") ? null : Boolean.valueOf(word);
        }
      }
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
      String number = s.substring(start, i);
      if (number.isEmpty()) throw error("unexpected " + c);
      return number.matches("-?\\d+") ? (Object) Long.valueOf(number) : (Object) Double.valueOf(number);
    }

    private String string() {
      if (s.charAt(i++) != '"') throw error("expected a string");
      StringBuilder out = new StringBuilder();
      while (true) {
        char c = s.charAt(i++);
        if (c == '"') return out.toString();
        if (c != '\\') {
          out.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'b':
            out.append('\b');
            break;
          case 'f':
            out.append('\f');
            break;
          case 'n':
            out.append('\n');
            break;
          case 'r':
            out.append('\r');
            break;
          case 't':
            out.append('\t');
            break;
          case 'u':
            // A surrogate pair is two escapes, each one UTF-16 unit, as Java strings are.
            out.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
            break;
          default:
            out.append(e);
        }
      }
    }

    @SuppressWarnings("unchecked")
    static void write(Object value, StringBuilder out) {
      if (value == null) out.append("null");
      else if (value instanceof Map) {
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : ((Map<String, Object>) value).entrySet()) {
          if (!first) out.append(',');
          first = false;
          writeString(e.getKey(), out);
          out.append(':');
          write(e.getValue(), out);
        }
        out.append('}');
      } else if (value instanceof List) {
        out.append('[');
        boolean first = true;
        for (Object item : (List<Object>) value) {
          if (!first) out.append(',');
          first = false;
          write(item, out);
        }
        out.append(']');
      } else if (value instanceof String) writeString((String) value, out);
      else out.append(value);
    }

    private static void writeString(String value, StringBuilder out) {
      out.append('"');
      for (char c : value.toCharArray()) {
        if (c == '"' || c == '\\') out.append('\\').append(c);
        else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
        else out.append(c);
      }
      out.append('"');
    }
  }
}
