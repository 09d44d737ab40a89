// golden_fixture.h — the binary fixture files the golden scripts of
// tests/fixtures write (selective_scan: magic "NMSSGLD1", attention:
// "NMATGLD1"): 8-byte magic, u32 count, then per tensor: u32 name length,
// name, u32 ndim, i64 dims, float32 little-endian data.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace nmtest {

struct GoldenFixture {
    std::map<std::string, std::vector<int64_t>> shape;
    std::map<std::string, std::vector<float>> data;
    bool has(const std::string& n) const { return data.count(n) != 0; }
};

// False when the file is missing, has another magic, or ends early.
inline bool read_golden_fixture(const std::string& path, const char (&magic)[9], GoldenFixture* f) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    char got[8];
    in.read(got, 8);
    if (!in || std::string(got, 8) != std::string(magic, 8)) return false;
    uint32_t count = 0;
    in.read(reinterpret_cast<char*>(&count), 4);
    for (uint32_t t = 0; t < count && in; ++t) {
        uint32_t len = 0, ndim = 0;
        in.read(reinterpret_cast<char*>(&len), 4);
        std::string name(len, '\0');
        in.read(&name[0], len);
        in.read(reinterpret_cast<char*>(&ndim), 4);
        std::vector<int64_t> dims(ndim);
        int64_t numel = 1;
        for (auto& d : dims) {
            in.read(reinterpret_cast<char*>(&d), 8);
            numel *= d;
        }
        std::vector<float> v(static_cast<size_t>(numel));
        in.read(reinterpret_cast<char*>(v.data()), std::streamsize(numel * 4));
        f->shape[name] = dims;
        f->data[name] = std::move(v);
    }
    return bool(in);
}

}  // namespace nmtest
