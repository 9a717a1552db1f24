import Tensor

/// Stock LLaVA-1.6 feeding (`mm_patch_merge_type` "spatial_unpad"), offered as an option beside VisPruner's
/// fixed-grid default: the crop grid is read as one large patch grid, the rows and columns that only cover
/// the resize-and-pad border are dropped (LLaVA's `unpad_image`), and the learned `image_newline` embedding
/// ends every remaining row. The base view's kept tokens come first, as in VisPruner's unpad branch; pruned
/// patches are skipped, newline tokens are always kept.
public enum StockAnyresLayout {
    public typealias Entry = VisualToken

    /// Rows and columns of the merged crop grid (`height` × `width` patches) that `unpad_image` keeps for
    /// an original image of `imageWidth` × `imageHeight` pixels (Python's float division and `int()`).
    public static func unpaddedRange(height: Int, width: Int, imageWidth: Int, imageHeight: Int)
        -> (rows: Range<Int>, cols: Range<Int>) {
        let originalAspect = Double(imageWidth) / Double(imageHeight)
        let currentAspect = Double(width) / Double(height)
        if originalAspect > currentAspect {
            let scale = Double(width) / Double(imageWidth)
            let newHeight = Int(Double(imageHeight) * scale)
            let padding = (height - newHeight) / 2
            return (padding..<(height - padding), 0..<width)
        } else {
            let scale = Double(height) / Double(imageHeight)
            let newWidth = Int(Double(imageWidth) * scale)
            let padding = (width - newWidth) / 2
            return (0..<height, padding..<(width - padding))
        }
    }

    /// Feed order: base view kept patches (ascending), then the unpadded merged grid row by row, each row's
    /// kept patches followed by one newline.
    public static func feedOrder(keptPerView: [[Int]], gridRows: Int, gridCols: Int, patchesPerSide side: Int,
                                 imageWidth: Int, imageHeight: Int) throws -> [Entry] {
        guard gridRows > 0, gridCols > 0, keptPerView.count == 1 + gridRows * gridCols else {
            throw ModelError("anyres layout: expected \(1 + gridRows * gridCols) views, got \(keptPerView.count)")
        }
        guard imageWidth > 0, imageHeight > 0 else { throw ModelError("anyres layout: image size must be positive") }
        let n = side * side
        let masks = try AnyresLayout.keptMasks(keptPerView, patches: n)
        var order: [Entry] = []
        for k in 0..<n where masks[0][k] { order.append(.patch(view: 0, index: k)) }
        let (rows, cols) = unpaddedRange(height: gridRows * side, width: gridCols * side,
                                         imageWidth: imageWidth, imageHeight: imageHeight)
        for y in rows {
            for x in cols {
                let view = 1 + (y / side) * gridCols + x / side
                let index = (y % side) * side + x % side
                if masks[view][index] { order.append(.patch(view: view, index: index)) }
            }
            order.append(.newline)
        }
        return order
    }
}
