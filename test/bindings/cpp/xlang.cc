// The C++ side of the cross-language tests (test/bindings/cpp.test.ts builds gen/cpp with its
// Makefile, then this file against the library and Debian's libprotobuf, and runs it):
//
//   xlang decode FIXTURE   decode ts-encoded.json with gen/cpp, field by field
//   xlang encode FIXTURE   encode the vectors of ts-encoded.json from their fields
//   xlang names            the schema's event and verb strings and the CODEC_PROTO flag
//   xlang runtime          the protobuf version the program was compiled and linked with
//
// Everything is printed as JSON for the TypeScript test to compare; this program asserts nothing
// itself, so a mismatch shows up as a field-level diff in vitest. The standard library has no
// JSON, so a small reader and writer for the fixtures' JSON come first.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/common.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rr/goridge/v1/goridge.pb.h"
#include "rr/tcp/v1/control.pb.h"
#include "rr/tcp/v1/options.pb.h"
#include "rr/tcp/v1/tcp.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// A JSON value: objects keep their key order; numbers are kept as their text.
struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool boolean = false;
  std::string text;  // a String's value, a Number's digits
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  static Json str(std::string s) {
    Json j;
    j.kind = String;
    j.text = std::move(s);
    return j;
  }
  static Json num(std::string digits) {
    Json j;
    j.kind = Number;
    j.text = std::move(digits);
    return j;
  }
  static Json array() {
    Json j;
    j.kind = Array;
    return j;
  }
  static Json object() {
    Json j;
    j.kind = Object;
    return j;
  }
  Json& set(const std::string& key, Json value) {
    members.emplace_back(key, std::move(value));
    return *this;
  }
  const Json& operator[](const std::string& key) const {
    for (const auto& m : members)
      if (m.first == key) return m.second;
    throw std::runtime_error("JSON: no key " + key);
  }
  int64_t integer() const { return std::stoll(text); }
  uint64_t unsigned_integer() const { return std::stoull(text); }
};

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  Json parse() {
    Json v = value();
    space();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  const std::string& s_;
  size_t i_ = 0;

  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("JSON: " + what + " at offset " + std::to_string(i_));
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) i_++;
  }
  char next() {
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_++];
  }
  Json value() {
    space();
    if (i_ >= s_.size()) fail("unexpected end");
    char c = s_[i_];
    if (c == '{') {
      i_++;
      Json obj = Json::object();
      space();
      if (s_[i_] == '}') {
        i_++;
        return obj;
      }
      while (true) {
        space();
        std::string key = string();
        space();
        if (next() != ':') fail("expected :");
        obj.set(key, value());
        space();
        char n = next();
        if (n == '}') return obj;
        if (n != ',') fail("expected , or }");
      }
    }
    if (c == '[') {
      i_++;
      Json arr = Json::array();
      space();
      if (s_[i_] == ']') {
        i_++;
        return arr;
      }
      while (true) {
        arr.items.push_back(value());
        space();
        char n = next();
        if (n == ']') return arr;
        if (n != ',') fail("expected , or ]");
      }
    }
    if (c == '"') return Json::str(string());
    for (const char* word : {"true", "false", "null"}) {
      if (s_.compare(i_, std::string(word).size(), word) == 0) {
        i_ += std::string(word).size();
        Json j;
        if (word[0] != 'n') {
          j.kind = Json::Bool;
          j.boolean = word[0] == 't';
        }
        return j;
      }
    }
    size_t start = i_;
    while (i_ < s_.size() && std::string("+-0123456789.eE").find(s_[i_]) != std::string::npos) i_++;
    if (start == i_) fail(std::string("unexpected ") + c);
    return Json::num(s_.substr(start, i_ - start));
  }
  void utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  std::string string() {
    if (next() != '"') fail("expected a string");
    std::string out;
    while (true) {
      char c = next();
      if (c == '"') return out;
      if (c != '\\') {
        out += c;  // UTF-8 bytes pass through
        continue;
      }
      char e = next();
      switch (e) {
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = std::stoul(s_.substr(i_, 4), nullptr, 16);
          i_ += 4;
          if (cp >= 0xd800 && cp < 0xdc00 && s_.compare(i_, 2, "\\u") == 0) {
            uint32_t low = std::stoul(s_.substr(i_ + 2, 4), nullptr, 16);
            i_ += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          utf8(cp, out);
          break;
        }
        default: out += e;
      }
    }
  }
};

void write(const Json& v, std::string& out) {
  switch (v.kind) {
    case Json::Null: out += "null"; break;
    case Json::Bool: out += v.boolean ? "true" : "false"; break;
    case Json::Number: out += v.text; break;
    case Json::String:
      out += '"';
      for (unsigned char c : v.text) {
        if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
      }
      out += '"';
      break;
    case Json::Array:
      out += '[';
      for (size_t i = 0; i < v.items.size(); i++) {
        if (i) out += ',';
        write(v.items[i], out);
      }
      out += ']';
      break;
    case Json::Object:
      out += '{';
      for (size_t i = 0; i < v.members.size(); i++) {
        if (i) out += ',';
        write(Json::str(v.members[i].first), out);
        out += ':';
        write(v.members[i].second, out);
      }
      out += '}';
      break;
  }
}

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

Json load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Reader(text.str()).parse();
}

// The generated types the vectors use. Naming them links their files into the program from the
// static library, which also registers them with the generated pool looked up below.
const std::vector<const Descriptor*>& schema_messages() {
  static const std::vector<const Descriptor*> known = {
      rr::tcp::v1::RequestContext::descriptor(), rr::tcp::v1::WorkerReply::descriptor(),
      rr::tcp::v1::Config::descriptor(),         rr::tcp::v1::PoolOptions::descriptor(),
      rr::tcp::v1::PoolState::descriptor(),      rr::goridge::v1::ControlMessage::descriptor(),
  };
  return known;
}

std::unique_ptr<Message> new_message(const std::string& full_name) {
  schema_messages();
  const Descriptor* d = google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(full_name);
  if (d == nullptr) throw std::runtime_error("no generated message " + full_name);
  return std::unique_ptr<Message>(google::protobuf::MessageFactory::generated_factory()->GetPrototype(d)->New());
}

Json dump(const Message& m);

Json scalar(const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return Json::num(std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f)));
    case FieldDescriptor::CPPTYPE_INT64:
      return Json::num(std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f)));
    case FieldDescriptor::CPPTYPE_UINT32:
      return Json::num(std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f)));
    case FieldDescriptor::CPPTYPE_UINT64:
      return Json::num(std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f)));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Json::num(std::to_string(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f)));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return Json::num(std::to_string(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f)));
    case FieldDescriptor::CPPTYPE_BOOL: {
      Json j;
      j.kind = Json::Bool;
      j.boolean = rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f);
      return j;
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      // The number, also for one this schema does not name (proto3 enums are open).
      return Json::num(std::to_string(rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f)));
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      return f->type() == FieldDescriptor::TYPE_BYTES ? Json::str(hex(s)) : Json::str(s);
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return dump(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
  }
  throw std::runtime_error("unknown field type");
}

// Every field of a message in the neutral form of test/bindings/vectors.ts.
Json dump(const Message& m) {
  const Reflection* r = m.GetReflection();
  const Descriptor* d = m.GetDescriptor();
  Json out = Json::object();
  for (int i = 0; i < d->field_count(); i++) {
    const FieldDescriptor* f = d->field(i);
    if (f->is_map()) {
      // Reflection sees a map as its repeated entries.
      Json map = Json::object();
      for (int j = 0; j < r->FieldSize(m, f); j++) {
        const Message& entry = r->GetRepeatedMessage(m, f, j);
        const Descriptor* e = entry.GetDescriptor();
        map.set(entry.GetReflection()->GetString(entry, e->map_key()), scalar(entry, e->map_value(), -1));
      }
      out.set(f->name(), map);
    } else if (f->is_repeated()) {
      Json items = Json::array();
      for (int j = 0; j < r->FieldSize(m, f); j++) items.items.push_back(scalar(m, f, j));
      out.set(f->name(), items);
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !r->HasField(m, f)) {
      out.set(f->name(), Json());
    } else {
      out.set(f->name(), scalar(m, f, -1));
    }
  }
  return out;
}

void fill(Message& m, const Json& fields);

// Sets (or, for a repeated field, adds) one value of field `f` from its neutral form.
void set_value(Message& m, const FieldDescriptor* f, const Json& v) {
  const Reflection* r = m.GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      rep ? r->AddInt32(&m, f, v.integer()) : r->SetInt32(&m, f, v.integer());
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      rep ? r->AddInt64(&m, f, v.integer()) : r->SetInt64(&m, f, v.integer());
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      rep ? r->AddUInt32(&m, f, v.unsigned_integer()) : r->SetUInt32(&m, f, v.unsigned_integer());
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      rep ? r->AddUInt64(&m, f, v.unsigned_integer()) : r->SetUInt64(&m, f, v.unsigned_integer());
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      rep ? r->AddDouble(&m, f, std::stod(v.text)) : r->SetDouble(&m, f, std::stod(v.text));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      rep ? r->AddFloat(&m, f, std::stof(v.text)) : r->SetFloat(&m, f, std::stof(v.text));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      rep ? r->AddBool(&m, f, v.boolean) : r->SetBool(&m, f, v.boolean);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      rep ? r->AddEnumValue(&m, f, v.integer()) : r->SetEnumValue(&m, f, v.integer());
      break;
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s = f->type() == FieldDescriptor::TYPE_BYTES ? unhex(v.text) : v.text;
      rep ? r->AddString(&m, f, s) : r->SetString(&m, f, s);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      // MutableMessage makes it present even when every field is zero (a Duration of 0s).
      fill(rep ? *r->AddMessage(&m, f) : *r->MutableMessage(&m, f), v);
      break;
  }
}

// The reverse of dump: sets every field of `m` from its neutral form.
void fill(Message& m, const Json& fields) {
  const Reflection* r = m.GetReflection();
  const Descriptor* d = m.GetDescriptor();
  for (int i = 0; i < d->field_count(); i++) {
    const FieldDescriptor* f = d->field(i);
    const Json& v = fields[f->name()];
    if (f->is_map()) {
      // Sorted keys, as the TypeScript encoder writes the vectors' maps.
      std::map<std::string, const Json*> sorted;
      for (const auto& member : v.members) sorted[member.first] = &member.second;
      for (const auto& kv : sorted) {
        Message* entry = r->AddMessage(&m, f);
        const Descriptor* e = entry->GetDescriptor();
        entry->GetReflection()->SetString(entry, e->map_key(), kv.first);
        set_value(*entry, e->map_value(), *kv.second);
      }
    } else if (f->is_repeated()) {
      for (const Json& item : v.items) set_value(m, f, item);
    } else if (v.kind != Json::Null) {
      set_value(m, f, v);
    }
  }
}

// The bytes with map entries in key order, as the TypeScript encoder writes the vectors.
std::string serialize(const Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!m.SerializeToCodedStream(&coded)) throw std::runtime_error("cannot serialize " + m.GetTypeName());
  }
  return out;
}

Json decode(const Json& fixture) {
  Json contexts = Json::array();
  for (const Json& vector : fixture["contexts"].items) {
    rr::tcp::v1::RequestContext message;
    if (!message.ParseFromString(unhex(vector["proto_hex"].text))) throw std::runtime_error("cannot parse a context");
    // Through the generated accessors, as a worker author would read them.
    Json fields = Json::object();
    fields.set("remote_addr", Json::str(message.remote_addr()))
        .set("server", Json::str(message.server()))
        .set("uuid", Json::str(message.uuid()))
        .set("event", Json::num(std::to_string(static_cast<int>(message.event()))));
    Json entry = Json::object();
    entry.set("name", vector["name"]).set("proto_fields", fields);
    contexts.items.push_back(entry);
  }
  Json messages = Json::array();
  for (const Json& vector : fixture["messages"].items) {
    std::unique_ptr<Message> message = new_message(vector["type"].text);
    if (!message->ParseFromString(unhex(vector["proto_hex"].text))) throw std::runtime_error("cannot parse " + vector["name"].text);
    Json entry = Json::object();
    entry.set("name", vector["name"]).set("type", vector["type"]).set("fields", dump(*message));
    messages.items.push_back(entry);
  }
  Json out = Json::object();
  out.set("contexts", contexts).set("messages", messages);
  return out;
}

Json encode(const Json& fixture) {
  Json contexts = Json::array();
  for (const Json& vector : fixture["contexts"].items) {
    const Json& f = vector["fields"];
    rr::tcp::v1::RequestContext message;
    message.set_remote_addr(f["remote_addr"].text);
    message.set_server(f["server"].text);
    message.set_uuid(f["uuid"].text);
    // By number: "event number from a newer schema" has no enumerator in TcpEvent.
    message.set_event(static_cast<rr::tcp::v1::TcpEvent>(f["event"].integer()));
    Json entry = Json::object();
    entry.set("name", vector["name"]).set("proto_hex", Json::str(hex(message.SerializeAsString())));
    contexts.items.push_back(entry);
  }
  Json messages = Json::array();
  for (const Json& vector : fixture["messages"].items) {
    std::unique_ptr<Message> message = new_message(vector["type"].text);
    fill(*message, vector["fields"]);
    Json entry = Json::object();
    entry.set("name", vector["name"]).set("type", vector["type"]).set("proto_hex", Json::str(hex(serialize(*message))));
    messages.items.push_back(entry);
  }
  Json out = Json::object();
  out.set("about",
          Json::str("Encoded by C++ (gen/cpp via Debian's libprotobuf, test/bindings/cpp/xlang.cc) from the fields of "
                    "ts-encoded.json, for TypeScript to decode field by field."))
      .set("contexts", contexts)
      .set("messages", messages);
  return out;
}

Json enum_names(const google::protobuf::EnumDescriptor* e, const std::string& prefix) {
  Json names = Json::array();
  for (int i = 0; i < e->value_count(); i++)
    if (e->value(i)->number() != 0) names.items.push_back(Json::str(e->value(i)->name().substr(prefix.size())));
  return names;
}

Json names() {
  Json out = Json::object();
  out.set("schema_events", enum_names(rr::tcp::v1::TcpEvent_descriptor(), "TCP_EVENT_"))
      .set("schema_verbs", enum_names(rr::tcp::v1::TcpResponse_descriptor(), "TCP_RESPONSE_"))
      .set("schema_codec_proto", Json::num(std::to_string(rr::goridge::v1::FRAME_FLAG_CODEC_PROTO)));
  return out;
}

Json runtime() {
  Json out = Json::object();
  out.set("protobuf_version", Json::str(google::protobuf::internal::VersionString(GOOGLE_PROTOBUF_VERSION)));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // Aborts when the headers and the linked libprotobuf differ.
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  try {
    const std::string command = argc > 1 ? argv[1] : "";
    Json result;
    if (command == "decode" && argc == 3) result = decode(load(argv[2]));
    else if (command == "encode" && argc == 3) result = encode(load(argv[2]));
    else if (command == "names") result = names();
    else if (command == "runtime") result = runtime();
    else {
      std::cerr << "usage: xlang decode|encode FIXTURE | names | runtime\n";
      return 2;
    }
    std::string out;
    write(result, out);
    std::cout << out << "\n";
  } catch (const std::exception& e) {
    std::cerr << "xlang: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
