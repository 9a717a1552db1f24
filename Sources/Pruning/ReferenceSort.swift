/// `torch.argsort(values, descending=True)` exactly as the reference's CPU build orders it,
/// including the order of equal values: PyTorch's unstable CPU sort is libstdc++'s `std::sort`
/// (introsort: median-of-three quicksort, heapsort past the depth limit, insertion sort for runs of
/// ≤ 16) on (value, index) pairs, with NaN ordered first. The same steps are followed here, so ties
/// are broken as the recorded reference breaks them.
enum ReferenceSort {
    static func argsortDescending(_ values: [Float]) -> [Int] {
        let n = values.count
        let keys = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
        let idx = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
        defer { keys.deallocate(); idx.deallocate() }
        for j in 0..<n { keys[j] = values[j]; idx[j] = j }
        Introsort(k: keys, i: idx, n: n).sort()
        return (0..<n).map { idx[$0] }
    }
}

private struct Introsort {
    let k: UnsafeMutablePointer<Float>
    let i: UnsafeMutablePointer<Int>
    let n: Int

    @inline(__always) func less(_ xv: Float, _ yv: Float) -> Bool { (xv.isNaN && !yv.isNaN) || xv > yv }
    @inline(__always) func comp(_ x: Int, _ y: Int) -> Bool { less(k[x], k[y]) }
    @inline(__always) func swap(_ x: Int, _ y: Int) {
        let tk = k[x]; k[x] = k[y]; k[y] = tk
        let ti = i[x]; i[x] = i[y]; i[y] = ti
    }

    func sort() {
        guard n > 1 else { return }
        introsortLoop(0, n, 2 * (Int.bitWidth - 1 - n.leadingZeroBitCount))
        finalInsertionSort(0, n)
    }

    func introsortLoop(_ first: Int, _ lastIn: Int, _ depthIn: Int) {
        var last = lastIn, depth = depthIn
        while last - first > 16 {
            if depth == 0 {
                makeHeap(first, last)
                sortHeap(first, last)
                return
            }
            depth -= 1
            let cut = partitionPivot(first, last)
            introsortLoop(cut, last, depth)
            last = cut
        }
    }

    func partitionPivot(_ first: Int, _ last: Int) -> Int {
        let mid = first + (last - first) / 2
        moveMedianToFirst(first, first + 1, mid, last - 1)
        return unguardedPartition(first + 1, last, first)
    }

    func moveMedianToFirst(_ r: Int, _ a: Int, _ b: Int, _ c: Int) {
        if comp(a, b) {
            if comp(b, c) { swap(r, b) } else if comp(a, c) { swap(r, c) } else { swap(r, a) }
        } else if comp(a, c) { swap(r, a) } else if comp(b, c) { swap(r, c) } else { swap(r, b) }
    }

    func unguardedPartition(_ firstIn: Int, _ lastIn: Int, _ pivot: Int) -> Int {
        var first = firstIn, last = lastIn
        while true {
            while comp(first, pivot) { first += 1 }
            last -= 1
            while comp(pivot, last) { last -= 1 }
            if !(first < last) { return first }
            swap(first, last)
            first += 1
        }
    }

    func finalInsertionSort(_ first: Int, _ last: Int) {
        if last - first > 16 {
            insertionSort(first, first + 16)
            for j in (first + 16)..<last { unguardedLinearInsert(j) }
        } else {
            insertionSort(first, last)
        }
    }

    func insertionSort(_ first: Int, _ last: Int) {
        guard first != last else { return }
        var j = first + 1
        while j < last {
            if comp(j, first) {
                let vk = k[j], vi = i[j]
                var m = j
                while m > first { k[m] = k[m - 1]; i[m] = i[m - 1]; m -= 1 }
                k[first] = vk; i[first] = vi
            } else {
                unguardedLinearInsert(j)
            }
            j += 1
        }
    }

    func unguardedLinearInsert(_ lastIn: Int) {
        var last = lastIn
        let vk = k[last], vi = i[last]
        var next = last - 1
        while less(vk, k[next]) {
            k[last] = k[next]; i[last] = i[next]
            last = next
            next -= 1
        }
        k[last] = vk; i[last] = vi
    }

    // Heap helpers (libstdc++ __adjust_heap / __push_heap / make_heap / sort_heap) on [first, last).
    func adjustHeap(_ first: Int, _ holeIn: Int, _ len: Int, _ vk: Float, _ vi: Int) {
        var hole = holeIn
        let top = hole
        var second = hole
        while second < (len - 1) / 2 {
            second = 2 * (second + 1)
            if comp(first + second, first + second - 1) { second -= 1 }
            k[first + hole] = k[first + second]; i[first + hole] = i[first + second]
            hole = second
        }
        if len & 1 == 0 && second == (len - 2) / 2 {
            second = 2 * (second + 1)
            k[first + hole] = k[first + second - 1]; i[first + hole] = i[first + second - 1]
            hole = second - 1
        }
        var parent = (hole - 1) / 2
        while hole > top && less(k[first + parent], vk) {
            k[first + hole] = k[first + parent]; i[first + hole] = i[first + parent]
            hole = parent
            parent = (hole - 1) / 2
        }
        k[first + hole] = vk; i[first + hole] = vi
    }

    func makeHeap(_ first: Int, _ last: Int) {
        let len = last - first
        guard len >= 2 else { return }
        var parent = (len - 2) / 2
        while true {
            adjustHeap(first, parent, len, k[first + parent], i[first + parent])
            if parent == 0 { return }
            parent -= 1
        }
    }

    func sortHeap(_ first: Int, _ lastIn: Int) {
        var last = lastIn
        while last - first > 1 {
            last -= 1
            let vk = k[last], vi = i[last]
            k[last] = k[first]; i[last] = i[first]
            adjustHeap(first, 0, last - first, vk, vi)
        }
    }
}
