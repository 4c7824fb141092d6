#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort

/// Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 28x28 grey images of clothing in 10 classes,
/// 60000 for training and 10000 for testing, in the MNIST file layout.
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package installs the files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    /// Mean and standard deviation of the training pixels scaled to [0, 1].
    public static let normalization = Normalization.fashionMNIST

    /// Loads both parts from `directory`, which must hold train-images-idx3-ubyte.gz,
    /// train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz.
    /// `classNames` name the ten classes (MNIST, in the same layout, has digits).
    public static func load(directory: String = defaultDirectory, classNames: [String] = classNames) throws -> (train: Dataset, test: Dataset) {
        let hint = "install it with `apt-get install dataset-fashion-mnist`"
        var info = stat()
        guard stat(directory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            throw CohortError.invalid("\(directory): no such directory; Fashion-MNIST is missing (\(hint))")
        }
        func path(_ name: String) throws -> String {
            let full = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard access(full, F_OK) == 0 else {
                throw CohortError.invalid("\(full): no such file; Fashion-MNIST is incomplete (\(hint))")
            }
            return full
        }
        let train = try Dataset.idx(images: path("train-images-idx3-ubyte.gz"), labels: path("train-labels-idx1-ubyte.gz"),
                                    classCount: 10, classNames: classNames)
        let test = try Dataset.idx(images: path("t10k-images-idx3-ubyte.gz"), labels: path("t10k-labels-idx1-ubyte.gz"),
                                   classCount: 10, classNames: classNames)
        return (train, test)
    }
}
