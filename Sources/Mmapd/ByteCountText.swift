/// Sizes for people (`512 B`, `1.5 KiB`, `12 MiB`, `3.9 GiB`): binary units, one decimal below
/// ten units, whole numbers above. Listings show it beside the exact byte count, which stays the
/// machine-readable figure.
enum ByteCountText {
    static func human(_ bytes: UInt64) -> String {
        guard bytes >= 1024 else { return "\(bytes) B" }
        var value = Double(bytes) / 1024
        var unit = 0
        // Move up while the figure would round to 1024 or more of the current unit.
        while value >= 1023.5, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = (value * 10).rounded()
        if tenths < 100 { return "\(Int(tenths) / 10).\(Int(tenths) % 10) \(units[unit])" }
        return "\(Int(value.rounded())) \(units[unit])"
    }

    private static let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
}
