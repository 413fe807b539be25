// Reports as a reader sees them: headless Chromium draws a page to a PNG,
// and the share of inked pixels says whether it drew anything; figure files
// must parse as XML. For the report tests (test_suite, test_report).
#pragma once

#include <catch2/catch.hpp>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace infomax::test {

// Decodes an 8-bit RGB or RGBA PNG and returns the share of pixels that are
// not (near) white.
inline double inked_share(const std::string& png) {
    REQUIRE(png.size() > 8);
    REQUIRE(png.compare(1, 3, "PNG") == 0);
    std::size_t pos = 8;
    std::uint32_t w = 0, h = 0;
    int channels = 0;
    std::string idat;
    auto be32 = [&](std::size_t p) {
        return (std::uint32_t(std::uint8_t(png[p])) << 24) | (std::uint32_t(std::uint8_t(png[p + 1])) << 16) |
               (std::uint32_t(std::uint8_t(png[p + 2])) << 8) | std::uint32_t(std::uint8_t(png[p + 3]));
    };
    while (pos + 8 <= png.size()) {
        const std::uint32_t len = be32(pos);
        const std::string type = png.substr(pos + 4, 4);
        if (type == "IHDR") {
            w = be32(pos + 8);
            h = be32(pos + 12);
            REQUIRE(std::uint8_t(png[pos + 16]) == 8);
            const int color = std::uint8_t(png[pos + 17]);
            REQUIRE((color == 2 || color == 6));
            channels = color == 2 ? 3 : 4;
        } else if (type == "IDAT") {
            idat += png.substr(pos + 8, len);
        }
        pos += 12 + len;
    }
    const std::size_t stride = std::size_t(w) * channels;
    std::vector<unsigned char> raw((stride + 1) * h);
    uLongf n = raw.size();
    REQUIRE(uncompress(raw.data(), &n, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) == Z_OK);
    std::vector<unsigned char> img(stride * h), prev(stride, 0);
    for (std::uint32_t y = 0; y < h; ++y) {
        const unsigned char f = raw[y * (stride + 1)];
        const unsigned char* in = &raw[y * (stride + 1) + 1];
        unsigned char* row = &img[y * stride];
        for (std::size_t i = 0; i < stride; ++i) {
            const int a = i >= std::size_t(channels) ? row[i - channels] : 0, b = prev[i],
                      c = i >= std::size_t(channels) ? prev[i - channels] : 0;
            int p = 0;
            if (f == 1) p = a;
            else if (f == 2) p = b;
            else if (f == 3) p = (a + b) / 2;
            else if (f == 4) {
                const int q = a + b - c, pa = std::abs(q - a), pb = std::abs(q - b), pc = std::abs(q - c);
                p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            row[i] = static_cast<unsigned char>(in[i] + p);
        }
        std::copy(row, row + stride, prev.begin());
    }
    std::size_t inked = 0;
    for (std::size_t p = 0; p < std::size_t(w) * h; ++p)
        if (img[p * channels] < 235 || img[p * channels + 1] < 235 || img[p * channels + 2] < 235) ++inked;
    return double(inked) / double(std::size_t(w) * h);
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

// Renders an HTML page (or an SVG) with headless Chromium into scratch/ and
// returns the share of inked pixels of a 1200x1600 window.
inline double rendered_ink(const std::filesystem::path& page, const std::filesystem::path& scratch) {
    const std::filesystem::path png = scratch / (page.stem().string() + ".png"), log = scratch / "chromium.log";
    std::filesystem::remove(png);
    const std::string cmd = "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir=" +
                            (scratch / "chromium").string() + " --window-size=1200,1600 --screenshot=" + png.string() + " 'file://" +
                            page.string() + "' > " + log.string() + " 2>&1";
    INFO("needs Debian's chromium (tools/setup.sh installs it); log: " << read_file(log));
    REQUIRE(std::system(cmd.c_str()) == 0);
    REQUIRE(std::filesystem::exists(png));
    const double ink = inked_share(read_file(png));
    INFO(page.string() << ": share of non-white pixels " << ink);
    return ink;
}

// Parses every .svg in dir as XML (python3's minidom: a strict parser);
// returns how many there are, after a CHECK per file.
inline int svg_files_well_formed(const std::filesystem::path& dir) {
    int n = 0;
    if (!std::filesystem::is_directory(dir)) return 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        if (e.path().extension() != ".svg") continue;
        ++n;
        const std::string cmd = "python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' '" + e.path().string() + "'";
        INFO(e.path().string() << " must be well-formed XML");
        CHECK(std::system(cmd.c_str()) == 0);
    }
    return n;
}

}  // namespace infomax::test
