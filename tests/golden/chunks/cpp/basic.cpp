#include <vector>
#include "shape.hpp"

namespace geo {

class Circle : public Shape {
public:
    explicit Circle(double r) : r_(r) {}
    double area() const override { return 3.14159 * r_ * r_; }
    double radius() const;

private:
    double r_;
};

template <typename T>
T clamp(T v, T lo, T hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

}  // namespace geo

double geo::Circle::radius() const { return r_; }

using Shapes = std::vector<geo::Circle>;
